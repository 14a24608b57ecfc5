/** Which OAuth scopes each People API method accepts, per https://developers.google.com/people/api/rest. */
const A = 'https://www.googleapis.com/auth/';

export const PEOPLE_SCOPES = {
  /** people.connections.list, people.searchContacts. */
  contactsRead: [`${A}contacts`, `${A}contacts.readonly`],
  /** otherContacts.search: only the "other contacts" scope, not even the full contacts one. */
  otherContactsRead: [`${A}contacts.other.readonly`],
};
