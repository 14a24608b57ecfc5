/** Which OAuth scopes each Gmail method accepts, per https://developers.google.com/gmail/api/reference/rest. */
const MAIL = 'https://mail.google.com/';
const G = 'https://www.googleapis.com/auth/gmail.';

export const GMAIL_SCOPES = {
  full: [MAIL],
  read: [MAIL, `${G}modify`, `${G}readonly`, `${G}metadata`],
  readBodies: [MAIL, `${G}modify`, `${G}readonly`],
  modify: [MAIL, `${G}modify`],
  send: [MAIL, `${G}modify`, `${G}compose`, `${G}send`],
  insert: [MAIL, `${G}modify`, `${G}insert`],
  drafts: [MAIL, `${G}modify`, `${G}compose`],
  draftsRead: [MAIL, `${G}modify`, `${G}compose`, `${G}readonly`],
  profile: [MAIL, `${G}modify`, `${G}compose`, `${G}readonly`, `${G}metadata`],
  labelsRead: [MAIL, `${G}modify`, `${G}labels`, `${G}readonly`, `${G}metadata`],
  labelsWrite: [MAIL, `${G}modify`, `${G}labels`],
  settingsRead: [MAIL, `${G}modify`, `${G}readonly`, `${G}settings.basic`],
  // Gmail takes settings writes only from the settings scopes, not even from mail.google.com.
  settingsWrite: [`${G}settings.basic`],
  /** sendAs.update/patch. */
  settingsBasicOrSharing: [`${G}settings.basic`, `${G}settings.sharing`],
  /** Forwarding addresses, delegates, auto-forwarding, send-as create/delete/verify. */
  settingsSharing: [`${G}settings.sharing`],
};

/** True when the token can see headers but not bodies (only gmail.metadata among read scopes). */
export function isMetadataOnly(scopes: string[]): boolean {
  return scopes.includes(`${G}metadata`) && !GMAIL_SCOPES.readBodies.some((scope) => scopes.includes(scope));
}
