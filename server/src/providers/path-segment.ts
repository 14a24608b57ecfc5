import { AppError } from '../errors.js';

/**
 * The one way a tool puts a value (an id, an email address) into a provider URL's path: as a
 * single encoded segment. `@`, `#`, `?` and `/` are escaped, so they never change the route;
 * an empty value, `.` and `..` are refused, since a URL parser drops or climbs them
 * (`…/events/..` becomes `…/calendars/primary/`, and a DELETE there means something else).
 */
export function pathSegment(value: string): string {
  if (value === '' || value === '.' || value === '..') {
    const shown = value === '' ? 'an empty value' : `"${value}"`;
    throw new AppError('tool_input_invalid', `${shown} is not a valid id here`);
  }
  return encodeURIComponent(value);
}
