import { auth, gmail, type gmail_v1 } from '@googleapis/gmail';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../../test/support/clock.js';
import { type RunningSandbox, startSandbox } from '../../../test/support/sandbox.js';

const MAIL = 'https://mail.google.com/';
const G = 'https://www.googleapis.com/auth/gmail.';
const BASIC = `${G}settings.basic`;
const SHARING = `${G}settings.sharing`;
const JOHN = 'john.doe@example.com';
const JANE = 'jane.doe@example.com';
const ALEX = 'alex.rivera@example.com';

let sandbox: RunningSandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ clock: manualClock() });
});
afterAll(async () => {
  await sandbox.close();
});

function clientFor(email: string, scopes: string[]): gmail_v1.Gmail {
  const { access_token } = sandbox.state.oauth.issueTokenDirectly({ email, scopes });
  const credentials = new auth.OAuth2();
  credentials.setCredentials({ access_token });
  return gmail({ version: 'v1', rootUrl: `${sandbox.url}/`, auth: credentials });
}

const insufficientScope = { status: 403, message: 'Request had insufficient authentication scopes.' };

describe('Gmail forwarding addresses', () => {
  it('adds an outside address as pending and an address of the organization as accepted', async () => {
    const john = clientFor(JOHN, [SHARING, BASIC]);
    const settings = john.users.settings.forwardingAddresses;
    expect((await settings.list({ userId: 'me' })).data).toEqual({});
    const outside = await settings.create({ userId: 'me', requestBody: { forwardingEmail: 'me@elsewhere.example' } });
    expect(outside.data).toEqual({ forwardingEmail: 'me@elsewhere.example', verificationStatus: 'pending' });
    const inside = await settings.create({ userId: 'me', requestBody: { forwardingEmail: JANE } });
    expect(inside.data).toEqual({ forwardingEmail: JANE, verificationStatus: 'accepted' });
    expect((await settings.get({ userId: 'me', forwardingEmail: JANE })).data.verificationStatus).toBe('accepted');
    expect((await settings.list({ userId: 'me' })).data.forwardingAddresses).toHaveLength(2);
    await expect(
      settings.create({ userId: 'me', requestBody: { forwardingEmail: 'ME@elsewhere.example' } }),
    ).rejects.toMatchObject({ status: 409 });
    await expect(settings.create({ userId: 'me', requestBody: { forwardingEmail: 'nobody' } })).rejects.toMatchObject({
      status: 400,
    });
  });

  it('deletes an address, stops auto-forwarding to it, and answers 404 for an unknown one', async () => {
    const alex = clientFor(ALEX, [SHARING, BASIC]);
    const settings = alex.users.settings;
    await settings.forwardingAddresses.create({ userId: 'me', requestBody: { forwardingEmail: JOHN } });
    await settings.updateAutoForwarding({
      userId: 'me',
      requestBody: { enabled: true, emailAddress: JOHN, disposition: 'leaveInInbox' },
    });
    const removed = await settings.forwardingAddresses.delete({ userId: 'me', forwardingEmail: JOHN });
    expect(removed.status).toBe(204);
    expect((await settings.getAutoForwarding({ userId: 'me' })).data.enabled).toBe(false);
    await expect(settings.forwardingAddresses.get({ userId: 'me', forwardingEmail: JOHN })).rejects.toMatchObject({
      status: 404,
    });
    await expect(settings.forwardingAddresses.delete({ userId: 'me', forwardingEmail: JOHN })).rejects.toMatchObject({
      status: 404,
    });
  });

  it('reads with gmail.readonly but writes only with gmail.settings.sharing, not even mail.google.com', async () => {
    const reader = clientFor(JOHN, [`${G}readonly`]);
    expect((await reader.users.settings.forwardingAddresses.list({ userId: 'me' })).status).toBe(200);
    for (const scopes of [[MAIL], [BASIC], [`${G}readonly`]]) {
      await expect(
        clientFor(JOHN, scopes).users.settings.forwardingAddresses.create({
          userId: 'me',
          requestBody: { forwardingEmail: 'x@elsewhere.example' },
        }),
      ).rejects.toMatchObject(insufficientScope);
    }
  });
});

describe('Gmail send-as aliases', () => {
  it('creates a pending outside alias, resends its verification, and cannot send from it yet', async () => {
    const jane = clientFor(JANE, [SHARING, MAIL]);
    const created = await jane.users.settings.sendAs.create({
      userId: 'me',
      requestBody: { sendAsEmail: 'jane@side-project.example', displayName: 'Jane (side)', treatAsAlias: true },
    });
    expect(created.data).toEqual({
      sendAsEmail: 'jane@side-project.example',
      displayName: 'Jane (side)',
      replyToAddress: '',
      signature: '',
      isPrimary: false,
      isDefault: false,
      treatAsAlias: true,
      verificationStatus: 'pending',
    });
    const verify = await jane.users.settings.sendAs.verify({ userId: 'me', sendAsEmail: 'jane@side-project.example' });
    expect(verify.status).toBe(204);
    const raw = Buffer.from(`From: jane@side-project.example\r\nTo: ${JOHN}\r\nSubject: alias\r\n\r\nx`).toString(
      'base64url',
    );
    const sent = await jane.users.messages.send({ userId: 'me', requestBody: { raw } });
    const got = await jane.users.messages.get({ userId: 'me', id: sent.data.id ?? '', format: 'metadata' });
    expect(got.data.payload?.headers?.find((h) => h.name === 'From')?.value).toContain(JANE);
  });

  it('accepts an alias of the organization at once; verify then fails its precondition', async () => {
    const jane = clientFor(JANE, [SHARING, BASIC]);
    const created = await jane.users.settings.sendAs.create({
      userId: 'me',
      requestBody: { sendAsEmail: 'support@example.com', isDefault: true },
    });
    expect(created.data).toMatchObject({ verificationStatus: 'accepted', isDefault: true });
    const all = (await jane.users.settings.sendAs.list({ userId: 'me' })).data.sendAs ?? [];
    expect(all.filter((alias) => alias.isDefault).map((alias) => alias.sendAsEmail)).toEqual(['support@example.com']);
    await expect(
      jane.users.settings.sendAs.verify({ userId: 'me', sendAsEmail: 'support@example.com' }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      jane.users.settings.sendAs.create({ userId: 'me', requestBody: { sendAsEmail: 'SUPPORT@example.com' } }),
    ).rejects.toMatchObject({ status: 409 });
  });

  it('deletes an alias (the default falls back to the primary) but never the primary address', async () => {
    const jane = clientFor(JANE, [SHARING, BASIC]);
    const removed = await jane.users.settings.sendAs.delete({ userId: 'me', sendAsEmail: 'support@example.com' });
    expect(removed.status).toBe(204);
    const primary = await jane.users.settings.sendAs.get({ userId: 'me', sendAsEmail: JANE });
    expect(primary.data).toMatchObject({ isPrimary: true, isDefault: true });
    await expect(jane.users.settings.sendAs.delete({ userId: 'me', sendAsEmail: JANE })).rejects.toMatchObject({
      status: 400,
    });
    await expect(
      jane.users.settings.sendAs.delete({ userId: 'me', sendAsEmail: 'support@example.com' }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it('updates an alias with PUT and refuses create without gmail.settings.sharing', async () => {
    const jane = clientFor(JANE, [BASIC]);
    const updated = await jane.users.settings.sendAs.update({
      userId: 'me',
      sendAsEmail: JANE,
      requestBody: { displayName: 'Jane D.' },
    });
    expect(updated.data.displayName).toBe('Jane D.');
    await expect(
      jane.users.settings.sendAs.create({ userId: 'me', requestBody: { sendAsEmail: 'a@b.example' } }),
    ).rejects.toMatchObject(insufficientScope);
  });
});

describe('Gmail delegates', () => {
  it('adds a member of the organization as accepted, lists, gets and removes it', async () => {
    const mei = clientFor('mei.tanaka@example.com', [SHARING, BASIC]);
    const delegates = mei.users.settings.delegates;
    expect((await delegates.list({ userId: 'me' })).data).toEqual({});
    const created = await delegates.create({ userId: 'me', requestBody: { delegateEmail: 'John.Doe@example.com' } });
    expect(created.data).toEqual({ delegateEmail: JOHN, verificationStatus: 'accepted' });
    expect((await delegates.list({ userId: 'me' })).data.delegates).toEqual([created.data]);
    expect((await delegates.get({ userId: 'me', delegateEmail: JOHN })).data).toEqual(created.data);
    await expect(delegates.create({ userId: 'me', requestBody: { delegateEmail: JOHN } })).rejects.toMatchObject({
      status: 409,
    });
    expect((await delegates.delete({ userId: 'me', delegateEmail: JOHN })).status).toBe(204);
    await expect(delegates.get({ userId: 'me', delegateEmail: JOHN })).rejects.toMatchObject({ status: 404 });
  });

  it('refuses outsiders, the user themself, and callers without gmail.settings.sharing', async () => {
    const mei = clientFor('mei.tanaka@example.com', [SHARING]);
    for (const delegateEmail of ['someone@elsewhere.example', 'mei.tanaka@example.com']) {
      await expect(
        mei.users.settings.delegates.create({ userId: 'me', requestBody: { delegateEmail } }),
      ).rejects.toMatchObject({ status: 400 });
    }
    await expect(
      clientFor('mei.tanaka@example.com', [MAIL, BASIC]).users.settings.delegates.create({
        userId: 'me',
        requestBody: { delegateEmail: JANE },
      }),
    ).rejects.toMatchObject(insufficientScope);
  });
});

describe('Gmail label filters on lists', () => {
  it("answers Google's 400 for a label id the mailbox does not have", async () => {
    const response = await fetch(`${sandbox.url}/gmail/v1/users/me/messages?labelIds=INBOX&labelIds=Receipts`, {
      headers: {
        authorization: `Bearer ${sandbox.state.oauth.issueTokenDirectly({ email: JOHN, scopes: [MAIL] }).access_token}`,
      },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        code: 400,
        message: 'Invalid label: Receipts',
        errors: [{ message: 'Invalid label: Receipts', domain: 'global', reason: 'invalidArgument' }],
        status: 'INVALID_ARGUMENT',
      },
    });
  });

  it('applies the same check to threads and drafts', async () => {
    const john = clientFor(JOHN, [MAIL]);
    await expect(john.users.threads.list({ userId: 'me', labelIds: ['Label_999'] })).rejects.toMatchObject({
      status: 400,
    });
    await expect(john.users.drafts.list({ userId: 'me', q: 'x', includeSpamTrash: false })).resolves.toMatchObject({
      status: 200,
    });
  });
});
