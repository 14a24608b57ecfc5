import { z } from 'zod';
import { defineTool } from '../../types.js';
import { creates } from '../annotations.js';
import { labelListVisibilityField, messageListVisibilityField } from '../label-fields.js';
import { LABEL_WRITE_SCOPES } from '../scopes.js';
import { gmailUrl } from '../urls.js';

export const createLabel = defineTool({
  name: 'gmail_create_label',
  description:
    'Create a new user label (Gmail\'s folders/tags). Use "Parent/Child" in the name to nest it under an existing label. Fails if a label with that name exists; check gmail_list_labels first. Returns the label { id, name, type, labelListVisibility, messageListVisibility }; apply it with gmail_modify_message_labels.',
  input: z.object({
    name: z.string().min(1).max(225).describe('Display name of the new label, e.g. "Receipts" or "Projects/Apollo".'),
    label_list_visibility: labelListVisibilityField.default('labelShow'),
    message_list_visibility: messageListVisibilityField.default('show'),
  }),
  annotations: creates('Create email label'),
  scopes: LABEL_WRITE_SCOPES,
  async run(input, ctx) {
    return ctx.api.request({
      method: 'POST',
      url: gmailUrl('labels'),
      body: {
        name: input.name,
        labelListVisibility: input.label_list_visibility,
        messageListVisibility: input.message_list_visibility,
      },
    });
  },
});
