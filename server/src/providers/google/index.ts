/** What every Google provider shares: OAuth at accounts.google.com and Google's error bodies. */
export { classifyGoogleError } from './errors.js';
export { googleOAuth } from './oauth.js';
