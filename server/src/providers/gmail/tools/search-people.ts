import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { SCOPE } from '../scopes.js';
import { PEOPLE_API } from '../urls.js';

// "Other contacts" (people the user emailed but never saved) only allow these read-mask fields.
const OTHER_CONTACT_FIELDS = new Set(['emailAddresses', 'metadata', 'names', 'phoneNumbers', 'photos']);

export const searchPeople = defineTool({
  name: 'gmail_search_people',
  description: [
    "Find people in the user's Google Contacts by name, email address, phone number or organization (prefix match), through the Google People API.",
    'Use it to turn "email Sarah from Acme" into an address. Set other_contacts true to search "other contacts" instead: people the user has emailed but never saved.',
    'Returns { results: [{ person: { resourceName, names?, emailAddresses?, phoneNumbers?, … } }] }.',
  ].join(' '),
  input: z.object({
    query: z.string().min(1).describe('Text to match, e.g. "sarah", "acme.com" or "+1 415".'),
    other_contacts: z
      .boolean()
      .default(false)
      .describe('Search "other contacts" (auto-saved from email exchanges) instead of saved contacts.'),
    page_size: z.number().int().min(1).max(30).default(10).describe('How many people to return (1-30).'),
    person_fields: z
      .array(z.string().min(1))
      .optional()
      .describe(
        'Which fields to return, e.g. ["names", "emailAddresses", "phoneNumbers", "organizations"]. Default: names, emailAddresses, phoneNumbers. Other contacts support only names, emailAddresses, phoneNumbers, photos, metadata.',
      ),
  }),
  annotations: readOnly('Search contacts'),
  scopes: [SCOPE.contacts, SCOPE.contactsReadonly, SCOPE.otherContactsReadonly],
  async run(input, ctx) {
    let fields = input.person_fields?.length ? input.person_fields : ['names', 'emailAddresses', 'phoneNumbers'];
    if (input.other_contacts) fields = fields.filter((field) => OTHER_CONTACT_FIELDS.has(field));
    if (fields.length === 0) fields = ['names', 'emailAddresses'];
    const url = input.other_contacts ? `${PEOPLE_API}/otherContacts:search` : `${PEOPLE_API}/people:searchContacts`;
    const readMask = fields.join(',');
    // Google asks for a warm-up request with an empty query first, or results may be stale.
    // https://developers.google.com/people/v1/contacts#search_the_users_contacts
    await ctx.api.request({ url, query: { query: '', readMask, pageSize: 1 } });
    const answer = await ctx.api.request<{ results?: unknown[] }>({
      url,
      query: { query: input.query, readMask, pageSize: input.page_size },
    });
    return { results: answer?.results ?? [] };
  },
});
