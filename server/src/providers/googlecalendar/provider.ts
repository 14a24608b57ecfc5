import { classifyGoogleError, googleOAuth } from '../google/index.js';
import type { ProviderDefinition } from '../types.js';
import { googleCalendarTools } from './tools/index.js';

// Lives in its own module so tool files can import it without a cycle through this one.
export { CALENDAR_API } from './calendar-api.js';

export const googleCalendar: ProviderDefinition = {
  name: 'googlecalendar',
  displayName: 'Google Calendar',
  description: 'See availability, and create, update and delete events in Google calendars.',
  icon: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" aria-hidden="true"><rect x="3" y="4" width="18" height="17" rx="2" fill="#fff" stroke="#4285F4" stroke-width="2"/><path fill="#4285F4" d="M3 6a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2v3H3z"/><text x="12" y="18.5" font-size="8" text-anchor="middle" fill="#4285F4" font-family="sans-serif">31</text></svg>',
  oauth: googleOAuth,
  errors: classifyGoogleError,
  // The sandbox emulates Google's OAuth and every API these tools call.
  sandbox: true,
  defaultScopes: ['https://www.googleapis.com/auth/calendar'],
  apiOrigins: ['https://www.googleapis.com'],
  tools: googleCalendarTools,
};
