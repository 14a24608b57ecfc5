import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoopbackServer, serveOnLoopback } from '../../../test/support/loopback.js';
import {
  FULL_CALENDAR_SCOPE,
  type RecordedRequest,
  recordingFetch,
  runTool,
  SANDBOX_NOW,
  startToolHarness,
  type ToolHarness,
  toolContext,
} from '../../../test/support/tool-harness.js';
import type { ToolContext } from '../types.js';
import { googleCalendar } from './provider.js';
import { createEvent } from './tools/create-event.js';
import { listEvents } from './tools/list-events.js';

// Google's answers to the two calls below, written by hand in the shape of the Calendar v3
// reference (events.insert, events.list). Ids, etags, links and stamps differ per server,
// so those are compared by type only.
const recorded = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

const VOLATILE = new Set(['id', 'etag', 'htmlLink', 'iCalUID', 'created', 'updated', 'nextSyncToken']);

function comparable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(comparable);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, VOLATILE.has(key) ? `<${typeof inner}>` : comparable(inner)]),
  );
}

const CREATE_INPUT = {
  summary: 'Design review',
  start_datetime: '2026-03-10T09:00:00',
  timezone: 'America/New_York',
  event_duration_minutes: 45,
  attendees_emails: ['ana@example.com'],
  description: 'Walk through the new onboarding flow.',
  location: 'Room 4B',
};

const LIST_INPUT = {
  time_min: '2026-03-10T00:00:00-04:00',
  time_max: '2026-03-11T00:00:00-04:00',
  query: 'review',
};

async function runBoth(ctx: ToolContext) {
  const created = await runTool(createEvent, CREATE_INPUT, ctx);
  const listed = await runTool(listEvents, LIST_INPUT, ctx);
  return { created, listed };
}

describe('recorded Google responses and the sandbox', () => {
  let sandbox: ToolHarness;
  let google: LoopbackServer;
  const googleRequests: RecordedRequest[] = [];

  beforeAll(async () => {
    sandbox = await startToolHarness({ provider: googleCalendar, scopes: [FULL_CALENDAR_SCOPE], now: SANDBOX_NOW });
    google = await serveOnLoopback(async (request) => {
      const url = new URL(request.url);
      if (url.pathname !== '/calendar/v3/calendars/primary/events')
        return new Response('not recorded', { status: 404 });
      const body = request.method === 'POST' ? recorded('events-insert.json') : recorded('events-list.json');
      return Response.json(body, { headers: { 'content-type': 'application/json; charset=UTF-8' } });
    });
  });

  afterAll(async () => {
    await sandbox.close();
    await google.close();
  });

  it('give create_event and list_events the same output, from the same requests', async () => {
    const fromSandbox = await runBoth(sandbox.ctx);
    const fromGoogle = await runBoth(
      toolContext({
        apiOrigins: googleCalendar.apiOrigins,
        baseUrl: google.url,
        accessToken: 'recorded',
        fetch: recordingFetch(googleRequests),
      }),
    );

    expect(comparable(fromSandbox.created)).toEqual(comparable(fromGoogle.created));
    expect(comparable(fromSandbox.listed)).toEqual(comparable(fromGoogle.listed));
    expect(sandbox.requests).toEqual(googleRequests);
    expect(fromGoogle.listed).toMatchObject({ next_page_token: null, time_zone: 'America/New_York' });
    expect(fromGoogle.created).toMatchObject({ id: '5q3r1h7vd9kb2c0m8sn6ut4peg', htmlLink: expect.any(String) });
  });
});
