import { z } from 'zod';

/** Where a label shows in Gmail's label list (the left-hand side bar). */
export const labelListVisibilityField = z
  .enum(['labelShow', 'labelShowIfUnread', 'labelHide'])
  .describe(
    'Show the label in the label list: "labelShow", "labelShowIfUnread" (only when it has unread mail) or "labelHide".',
  );

/** Whether the label chip shows on messages in the message list. */
export const messageListVisibilityField = z
  .enum(['show', 'hide'])
  .describe('Show the label on messages in the message list: "show" or "hide".');

export const labelIdField = z
  .string()
  .min(1)
  .describe('Label id (not its name), e.g. "Label_12" or a system label like "INBOX"; see gmail_list_labels.');
