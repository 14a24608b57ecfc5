import { z } from 'zod';
import { defineTool } from '../../types.js';
import { readOnly } from '../annotations.js';
import { CONTACTS_READ_SCOPES } from '../scopes.js';
import { PEOPLE_API } from '../urls.js';

interface ConnectionList {
  connections?: unknown[];
  nextPageToken?: string;
  totalPeople?: number;
  totalItems?: number;
}

export const getContacts = defineTool({
  name: 'gmail_get_contacts',
  description: [
    "List the user's Google Contacts (the people they saved), through the Google People API, sorted by last modified.",
    'Use gmail_search_people to find someone by name or address instead of paging through everyone. Needs a contacts scope (contacts.readonly).',
    'Returns { connections: [{ resourceName, names?, emailAddresses?, phoneNumbers?, … }], nextPageToken?, totalPeople? }.',
  ].join(' '),
  input: z.object({
    max_results: z.number().int().min(1).max(1000).default(100).describe('How many contacts per page (1-1000).'),
    page_token: z.string().min(1).optional().describe('The `nextPageToken` of a previous call, for the next page.'),
    person_fields: z
      .array(z.string().min(1))
      .optional()
      .describe(
        'Which fields of each person to return, e.g. ["names", "emailAddresses", "phoneNumbers", "organizations"]. Default: names, emailAddresses, phoneNumbers.',
      ),
  }),
  annotations: readOnly('List contacts'),
  scopes: CONTACTS_READ_SCOPES,
  async run(input, ctx) {
    const fields = input.person_fields?.length ? input.person_fields : ['names', 'emailAddresses', 'phoneNumbers'];
    const answer = await ctx.api.request<ConnectionList>({
      url: `${PEOPLE_API}/people/me/connections`,
      query: {
        personFields: fields.join(','),
        pageSize: input.max_results,
        pageToken: input.page_token,
        sortOrder: 'LAST_MODIFIED_DESCENDING',
      },
    });
    return { ...answer, connections: answer?.connections ?? [] };
  },
});
