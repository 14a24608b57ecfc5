/**
 * Google's error envelope for Calendar v3:
 * `{"error":{"code":404,"message":"Not Found","errors":[{"domain":"global","reason":"notFound","message":"Not Found"}]}}`.
 * Handlers throw a CalendarApiError anywhere; the app's error hook turns it into that body.
 */
export interface GoogleErrorItem {
  domain: string;
  reason: string;
  message: string;
  location?: string;
  locationType?: string;
}

export class CalendarApiError extends Error {
  readonly status: number;
  readonly item: GoogleErrorItem;

  constructor(status: number, reason: string, message: string, extra: Partial<GoogleErrorItem> = {}) {
    super(message);
    this.name = 'CalendarApiError';
    this.status = status;
    this.item = { domain: 'global', reason, message, ...extra };
  }

  toResponse(): Response {
    const body = { error: { code: this.status, message: this.message, errors: [this.item] } };
    return new Response(JSON.stringify(body), {
      status: this.status,
      headers: { 'content-type': 'application/json; charset=UTF-8' },
    });
  }
}

export const notFound = (): CalendarApiError => new CalendarApiError(404, 'notFound', 'Not Found');

export const badRequest = (message: string, reason = 'invalid'): CalendarApiError =>
  new CalendarApiError(400, reason, message);

export const missing = (message: string): CalendarApiError => new CalendarApiError(400, 'required', message);

/** A query parameter Google rejects before the call reaches Calendar (wrong type, out of range). */
export const invalidParameter = (name: string, value: string, why: string): CalendarApiError =>
  new CalendarApiError(400, 'invalidParameter', `Invalid value '${value}' for ${name}. ${why}`, {
    location: name,
    locationType: 'parameter',
  });

export const deletedResource = (): CalendarApiError =>
  new CalendarApiError(410, 'deleted', 'Resource has been deleted');

export const fullSyncRequired = (): CalendarApiError =>
  new CalendarApiError(410, 'fullSyncRequired', 'Sync token is no longer valid, a full sync is required.');

export const preconditionFailed = (): CalendarApiError =>
  new CalendarApiError(412, 'conditionNotMet', 'Precondition Failed', { location: 'If-Match', locationType: 'header' });

export const accessLevelRequired = (level: 'writer' | 'owner'): CalendarApiError =>
  new CalendarApiError(403, 'requiredAccessLevel', `You need to have ${level} access to this calendar.`);
