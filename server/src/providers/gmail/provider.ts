import { classifyGoogleError, googleOAuth } from '../google/index.js';
import type { ProviderDefinition } from '../types.js';
import { gmailTools } from './tools/index.js';
import { GMAIL_API } from './urls.js';

export { GMAIL_API };

export const gmail: ProviderDefinition = {
  name: 'gmail',
  displayName: 'Gmail',
  description: 'Read, search, send and organize email in a Google account.',
  icon: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" aria-hidden="true"><path fill="#EA4335" d="M3 6.5 12 13l9-6.5V18a1.5 1.5 0 0 1-1.5 1.5H18V10l-6 4.3L6 10v9.5H4.5A1.5 1.5 0 0 1 3 18z"/><path fill="#FBBC04" d="M21 6.5 12 13 3 6.5A2 2 0 0 1 6.2 4.9L12 9.2l5.8-4.3A2 2 0 0 1 21 6.5z"/></svg>',
  oauth: googleOAuth,
  errors: classifyGoogleError,
  // The sandbox emulates Google's OAuth and every API these tools call.
  sandbox: true,
  defaultScopes: [
    'https://www.googleapis.com/auth/gmail.modify',
    'https://www.googleapis.com/auth/gmail.settings.basic',
  ],
  // The contact tools (gmail_get_contacts, gmail_search_people) read the People API.
  apiOrigins: ['https://gmail.googleapis.com', 'https://people.googleapis.com'],
  tools: gmailTools,
};
