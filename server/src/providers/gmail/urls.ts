/** Where the Gmail and People APIs live, and how a tool builds a Gmail URL. */

import { pathSegment } from '../path-segment.js';

/** Base URL of the Gmail REST API v1; tools address the signed-in user as `me`. */
export const GMAIL_API = 'https://gmail.googleapis.com/gmail/v1';

/** Base URL of the Google People API, which holds the user's contacts. */
export const PEOPLE_API = 'https://people.googleapis.com/v1';

/** `https://gmail.googleapis.com/gmail/v1/users/me/<path>`, each path segment already encoded by the caller. */
export function gmailUrl(path: string): string {
  return `${GMAIL_API}/users/me/${path}`;
}

/** Encodes one path segment (an id or an email address) for a Gmail URL; refuses `.`, `..` and empty ones. */
export const segment = pathSegment;
