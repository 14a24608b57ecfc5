import type { ToolDefinition } from '../../types.js';
import { batchDeleteMessages } from './batch-delete-messages.js';
import { batchModifyMessages } from './batch-modify-messages.js';
import { createDelegate } from './create-delegate.js';
import { createDraft } from './create-draft.js';
import { createFilter } from './create-filter.js';
import { createForwardingAddress } from './create-forwarding-address.js';
import { createLabel } from './create-label.js';
import { createSendAs } from './create-send-as.js';
import { deleteDraft } from './delete-draft.js';
import { deleteFilter } from './delete-filter.js';
import { deleteForwardingAddress } from './delete-forwarding-address.js';
import { deleteLabel } from './delete-label.js';
import { deleteMessage } from './delete-message.js';
import { deleteSendAs } from './delete-send-as.js';
import { deleteThread } from './delete-thread.js';
import { fetchMails } from './fetch-mails.js';
import { getAttachmentById } from './get-attachment-by-id.js';
import { getAutoForwarding } from './get-auto-forwarding.js';
import { getContacts } from './get-contacts.js';
import { getDraft } from './get-draft.js';
import { getFilter } from './get-filter.js';
import { getForwardingAddress } from './get-forwarding-address.js';
import { getLabel } from './get-label.js';
import { getMessageById } from './get-message-by-id.js';
import { getProfile } from './get-profile.js';
import { getSendAs } from './get-send-as.js';
import { getThreadById } from './get-thread-by-id.js';
import { getVacationSettings } from './get-vacation-settings.js';
import { importMessage } from './import-message.js';
import { insertMessage } from './insert-message.js';
import { listDelegates } from './list-delegates.js';
import { listDrafts } from './list-drafts.js';
import { listFilters } from './list-filters.js';
import { listForwardingAddresses } from './list-forwarding-addresses.js';
import { listHistory } from './list-history.js';
import { listLabels } from './list-labels.js';
import { listSendAs } from './list-send-as.js';
import { listThreads } from './list-threads.js';
import { modifyMessageLabels } from './modify-message-labels.js';
import { modifyThreadLabels } from './modify-thread-labels.js';
import { replyToThread } from './reply-to-thread.js';
import { searchPeople } from './search-people.js';
import { sendDraft } from './send-draft.js';
import { sendMessage } from './send-message.js';
import { stopMailboxWatch } from './stop-mailbox-watch.js';
import { trashMessage } from './trash-message.js';
import { trashThread } from './trash-thread.js';
import { untrashMessage } from './untrash-message.js';
import { untrashThread } from './untrash-thread.js';
import { updateAutoForwarding } from './update-auto-forwarding.js';
import { updateDraft } from './update-draft.js';
import { updateLabel } from './update-label.js';
import { updateSendAs } from './update-send-as.js';
import { updateVacationSettings } from './update-vacation-settings.js';
import { verifySendAs } from './verify-send-as.js';
import { watchMailbox } from './watch-mailbox.js';

/** Every Gmail tool, listed by hand: reading mail first, then sending, organizing and settings. */
export const gmailTools: ToolDefinition[] = [
  // reading
  fetchMails,
  getMessageById,
  getAttachmentById,
  listThreads,
  getThreadById,
  listHistory,
  getProfile,
  // sending and drafts
  sendMessage,
  replyToThread,
  createDraft,
  updateDraft,
  getDraft,
  listDrafts,
  sendDraft,
  deleteDraft,
  // organizing
  modifyMessageLabels,
  batchModifyMessages,
  modifyThreadLabels,
  trashMessage,
  untrashMessage,
  trashThread,
  untrashThread,
  deleteMessage,
  batchDeleteMessages,
  deleteThread,
  insertMessage,
  importMessage,
  // labels
  listLabels,
  getLabel,
  createLabel,
  updateLabel,
  deleteLabel,
  // settings
  getVacationSettings,
  updateVacationSettings,
  getAutoForwarding,
  updateAutoForwarding,
  listFilters,
  getFilter,
  createFilter,
  deleteFilter,
  listForwardingAddresses,
  getForwardingAddress,
  createForwardingAddress,
  deleteForwardingAddress,
  listSendAs,
  getSendAs,
  createSendAs,
  updateSendAs,
  deleteSendAs,
  verifySendAs,
  listDelegates,
  createDelegate,
  // push notifications
  watchMailbox,
  stopMailboxWatch,
  // contacts
  getContacts,
  searchPeople,
];
