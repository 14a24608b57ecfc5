/**
 * Gmail OAuth scopes, and the sets Google accepts per API method (any one scope of a set
 * lets the call through). Sets follow the "Authorization scopes" section of each method
 * in https://developers.google.com/workspace/gmail/api/reference/rest
 */
const G = 'https://www.googleapis.com/auth/';

export const SCOPE = {
  full: 'https://mail.google.com/',
  modify: `${G}gmail.modify`,
  readonly: `${G}gmail.readonly`,
  metadata: `${G}gmail.metadata`,
  compose: `${G}gmail.compose`,
  send: `${G}gmail.send`,
  insert: `${G}gmail.insert`,
  labels: `${G}gmail.labels`,
  settingsBasic: `${G}gmail.settings.basic`,
  settingsSharing: `${G}gmail.settings.sharing`,
  contacts: `${G}contacts`,
  contactsReadonly: `${G}contacts.readonly`,
  otherContactsReadonly: `${G}contacts.other.readonly`,
} as const;

/** messages.list/get (metadata format), threads.list/get, history.list, getProfile, watch, stop. */
export const READ_METADATA_SCOPES = [SCOPE.full, SCOPE.modify, SCOPE.readonly, SCOPE.metadata];
/** Reading bodies and attachments: gmail.metadata is not enough. */
export const READ_SCOPES = [SCOPE.full, SCOPE.modify, SCOPE.readonly];
/** messages.send. */
export const SEND_SCOPES = [SCOPE.full, SCOPE.modify, SCOPE.compose, SCOPE.send];
/** drafts.create/update/send/delete. */
export const DRAFT_SCOPES = [SCOPE.full, SCOPE.modify, SCOPE.compose];
/** drafts.get/list. */
export const DRAFT_READ_SCOPES = [SCOPE.full, SCOPE.modify, SCOPE.compose, SCOPE.readonly];
/** messages/threads modify, batchModify, trash, untrash. */
export const MODIFY_SCOPES = [SCOPE.full, SCOPE.modify];
/** messages.delete, messages.batchDelete, threads.delete: permanent deletion needs full access. */
export const DELETE_SCOPES = [SCOPE.full];
/** messages.insert and messages.import. */
export const INSERT_SCOPES = [SCOPE.full, SCOPE.modify, SCOPE.insert];
/** labels.list/get. */
export const LABEL_READ_SCOPES = [SCOPE.full, SCOPE.modify, SCOPE.readonly, SCOPE.labels, SCOPE.metadata];
/** labels.create/patch/delete. */
export const LABEL_WRITE_SCOPES = [SCOPE.full, SCOPE.modify, SCOPE.labels];
/** settings.*.get/list. */
export const SETTINGS_READ_SCOPES = [SCOPE.full, SCOPE.modify, SCOPE.readonly, SCOPE.settingsBasic];
/** Filters, vacation responder, send-as patch. */
export const SETTINGS_BASIC_SCOPES = [SCOPE.settingsBasic];
/** Auto-forwarding, forwarding addresses, delegates, send-as create/delete/verify. */
export const SETTINGS_SHARING_SCOPES = [SCOPE.settingsSharing];
/** People API: people.connections.list and people.searchContacts. */
export const CONTACTS_READ_SCOPES = [SCOPE.contacts, SCOPE.contactsReadonly];
