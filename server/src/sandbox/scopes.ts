/** Scope spellings and the plain words the consent page shows for them. */

const GOOGLE_AUTH = 'https://www.googleapis.com/auth/';

// Google answers the short OpenID scopes with their long names in the token's `scope`.
const ALIASES: Record<string, string> = {
  email: `${GOOGLE_AUTH}userinfo.email`,
  profile: `${GOOGLE_AUTH}userinfo.profile`,
};

export function normalizeScope(scope: string): string {
  return ALIASES[scope] ?? scope;
}

export function parseScopeParam(value: string | undefined | null): string[] {
  return [
    ...new Set(
      (value ?? '')
        .split(/[\s,]+/)
        .filter(Boolean)
        .map(normalizeScope),
    ),
  ];
}

export function isKnownScopeSpelling(scope: string): boolean {
  return scope === 'openid' || scope === 'https://mail.google.com/' || scope.startsWith(GOOGLE_AUTH);
}

const DESCRIPTIONS: Record<string, string> = {
  openid: 'Associate you with your personal info on Google',
  [`${GOOGLE_AUTH}userinfo.email`]: 'See your primary Google Account email address',
  [`${GOOGLE_AUTH}userinfo.profile`]:
    'See your personal info, including any personal info you have made publicly available',
  'https://mail.google.com/': 'Read, compose, send, and permanently delete all your email from Gmail',
  [`${GOOGLE_AUTH}gmail.modify`]: 'Read, compose, and send emails from your Gmail account',
  [`${GOOGLE_AUTH}gmail.readonly`]: 'View your email messages and settings',
  [`${GOOGLE_AUTH}gmail.metadata`]:
    'View your email message metadata such as labels and headers, but not the email body',
  [`${GOOGLE_AUTH}gmail.send`]: 'Send email on your behalf',
  [`${GOOGLE_AUTH}gmail.compose`]: 'Manage drafts and send emails',
  [`${GOOGLE_AUTH}gmail.insert`]: 'Add emails into your Gmail mailbox',
  [`${GOOGLE_AUTH}gmail.labels`]: 'See and edit your email labels',
  [`${GOOGLE_AUTH}gmail.settings.basic`]: 'See, edit, create, or change your email settings and filters in Gmail',
  [`${GOOGLE_AUTH}gmail.settings.sharing`]: 'Manage your sensitive mail settings, including who can manage your mail',
  [`${GOOGLE_AUTH}contacts`]: 'See, edit, download, and permanently delete your contacts',
  [`${GOOGLE_AUTH}contacts.readonly`]: 'See and download your contacts',
  [`${GOOGLE_AUTH}contacts.other.readonly`]:
    'See and download contact info automatically saved in your "Other contacts"',
  [`${GOOGLE_AUTH}calendar`]:
    'See, edit, share, and permanently delete all the calendars you can access using Google Calendar',
  [`${GOOGLE_AUTH}calendar.readonly`]: 'See and download any calendar you can access using your Google Calendar',
  [`${GOOGLE_AUTH}calendar.events`]: 'View and edit events on all your calendars',
  [`${GOOGLE_AUTH}calendar.events.readonly`]: 'View events on all your calendars',
};

export function describeScope(scope: string): string {
  return DESCRIPTIONS[scope] ?? scope;
}

export const IDENTITY_SCOPES = ['openid', `${GOOGLE_AUTH}userinfo.email`, `${GOOGLE_AUTH}userinfo.profile`];
