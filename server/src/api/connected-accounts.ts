import type { AuthorizationLink } from '@switchboard/sdk';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { ACCOUNT_EVENT_TYPES } from '../accounts/account-events.js';
import { ACCOUNT_STATUSES, type AccountRef, accountToApi } from '../accounts/connected-accounts.js';
import type { AppEnv, Services } from '../context.js';
import { AppError } from '../errors.js';
import { decodePageToken, pageSize, pageTokens, queryList, readJson, readQuery } from '../http/request.js';
import { emptyAnswer, named, pageFields, type RouteDoc } from '../http/route-docs.js';

const identifier = z.string().min(1).max(256);
/** The reference's organization_id / user_id are accepted for compatibility; one tenant here. */
const tenancy = { organization_id: z.string().optional(), user_id: z.string().optional() };

const refFields = {
  ...tenancy,
  id: z.string().optional(),
  connector: z.string().optional(),
  identifier: identifier.optional(),
};

function toRef(input: { id?: string; connector?: string; identifier?: string }): AccountRef {
  if (input.id) return { id: input.id };
  if (input.connector && input.identifier) return { connector: input.connector, identifier: input.identifier };
  throw new AppError('validation_failed', 'give either id, or connector and identifier');
}

const oauthToken = z.strictObject({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  scopes: z.array(z.string()).optional(),
  domain: z.string().optional(),
  expires_in: z.number().int().positive().optional(),
});

const accountBody = z.strictObject({
  api_config: z.record(z.string(), z.unknown()).optional(),
  authorization_details: z.strictObject({ oauth_token: oauthToken.optional() }).optional(),
});

const createBody = z.strictObject({
  ...tenancy,
  connector: z.string().min(1),
  identifier,
  connected_account: accountBody.optional(),
});

const updateBody = z.strictObject({ ...refFields, connected_account: accountBody });
const refBody = z.strictObject(refFields);
const magicLinkBody = z.strictObject({
  ...refFields,
  /** Handed back, as given, on the user verify URL. */
  state: z.string().max(1024).optional(),
  user_verify_url: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .optional(),
});

const verifyBody = z.strictObject({
  auth_request_id: z.string().min(1).max(200),
  identifier,
});

const eventsQuery = z.strictObject({
  type: z.enum(ACCOUNT_EVENT_TYPES).optional(),
  page_size: pageSize(100, 50),
  page_token: z.string().optional(),
});

const listQuery = z.strictObject({
  ...tenancy,
  connector: z.string().optional(),
  identifier: z.string().optional(),
  provider: z.string().optional(),
  status: z.enum(ACCOUNT_STATUSES).optional(),
  query: z.string().optional(),
  connection_names: queryList.optional(),
  connection_id: z.string().optional(),
  page_size: pageSize(100, 50),
  page_token: z.string().optional(),
});

const accountSummaryFields = {
  id: z.string(),
  identifier: z.string(),
  connector: z.string(),
  connection_id: z.string(),
  provider: z.string(),
  status: z.enum(ACCOUNT_STATUSES),
  authorization_type: z.string(),
  /** Unset timestamps are omitted, as protobuf JSON does. */
  token_expires_at: z.iso.datetime().optional(),
  last_used_at: z.iso.datetime().optional(),
  updated_at: z.iso.datetime(),
};
/** An account as lists show it: no authorization details. */
const accountSummary = named('ConnectedAccountSummary', z.strictObject(accountSummaryFields));
/** An account as accountToApi shows it: granted scopes and the provider account, never a token. */
const accountSchema = named(
  'ConnectedAccount',
  z.strictObject({
    ...accountSummaryFields,
    authorization_details: z.strictObject({
      oauth_token: z.strictObject({ scopes: z.array(z.string()), domain: z.string() }),
    }),
  }),
);
const oneAnswer = z.strictObject({ connected_account: accountSchema });
const listAnswer = named(
  'ConnectedAccountList',
  z.strictObject({ connected_accounts: z.array(accountSummary), ...pageFields }),
);
const linkAnswer = named('AuthorizationLink', z.strictObject({ link: z.url(), expiry: z.iso.datetime() }));
export const verifyAnswer = named('VerifyUserResult', z.strictObject({ post_user_verify_redirect_url: z.url() }));
const eventSchema = named(
  'AccountEvent',
  z.strictObject({
    id: z.string(),
    connected_account_id: z.string(),
    connection_id: z.string(),
    identifier: z.string(),
    type: z.enum(ACCOUNT_EVENT_TYPES),
    detail: z.record(z.string(), z.unknown()),
    created_at: z.iso.datetime(),
  }),
);
const eventsAnswer = named('AccountEventList', z.strictObject({ events: z.array(eventSchema), ...pageFields }));

const TAG = 'Connected accounts';
const ID = { id: 'the connected account id' };
const ONE = {
  status: 200,
  description: '{ connected_account }; tokens never leave Switchboard',
  schema: oneAnswer,
};
const EMPTY = { status: 200, description: '{}', schema: emptyAnswer };

/** The reference's view of these routes, from the schemas above (see http/route-docs.ts). */
export const connectedAccountRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    route: '/connected_accounts',
    tag: TAG,
    auth: 'management',
    summary: 'List connected accounts',
    query: listQuery,
    response: {
      status: 200,
      description: '{ connected_accounts, next_page_token, prev_page_token, total_size }',
      schema: listAnswer,
    },
    errors: ['invalid_request'],
  },
  {
    method: 'get',
    route: '/connected_accounts:search',
    tag: TAG,
    auth: 'management',
    summary: 'Search connected accounts (query: at least 3 characters)',
    query: listQuery,
    response: { status: 200, description: 'as GET /connected_accounts', schema: listAnswer },
    errors: ['invalid_request'],
  },
  {
    method: 'post',
    route: '/connected_accounts',
    tag: TAG,
    auth: 'management',
    summary: 'Create a connected account, optionally with tokens obtained elsewhere',
    body: createBody,
    response: { ...ONE, status: 201 },
    errors: ['not_found', 'already_exists'],
  },
  {
    method: 'put',
    route: '/connected_accounts',
    tag: TAG,
    auth: 'management',
    summary: 'Replace the tokens of a connected account',
    body: updateBody,
    response: ONE,
    errors: ['not_found'],
  },
  // The handlers read the query with z.strictObject(refFields), the shape of refBody.
  {
    method: 'get',
    route: '/connected_accounts/auth',
    tag: TAG,
    auth: 'management',
    summary: 'Get an account by id, or by connector and identifier (answers like /details)',
    query: refBody,
    response: ONE,
    errors: ['not_found'],
  },
  {
    method: 'get',
    route: '/connected_accounts/details',
    tag: TAG,
    auth: 'management',
    summary: 'Get an account by id, or by connector and identifier',
    query: refBody,
    response: ONE,
    errors: ['not_found'],
  },
  {
    method: 'post',
    route: '/connected_accounts/magic_link',
    tag: TAG,
    auth: 'management',
    summary: 'Issue an authentication link a user opens to connect the account',
    body: magicLinkBody,
    response: { status: 200, description: '{ link, expiry }', schema: linkAnswer },
    errors: ['not_found', 'rate_limited'],
  },
  {
    method: 'post',
    route: '/connected_accounts/user/verify',
    tag: TAG,
    auth: 'management',
    summary: 'Confirm who consented (user verification), answering where to send the browser',
    body: verifyBody,
    response: { status: 200, description: '{ post_user_verify_redirect_url }', schema: verifyAnswer },
    errors: [
      'user_verification_invalid',
      'user_verification_used',
      'user_verification_expired',
      'user_verification_mismatch',
    ],
  },
  {
    method: 'post',
    route: '/connected_accounts:delete',
    tag: TAG,
    auth: 'management',
    summary: 'Delete an account by id, or by connector and identifier (revokes at the provider)',
    body: refBody,
    response: EMPTY,
    errors: ['not_found'],
  },
  {
    method: 'post',
    route: '/connected_accounts:disconnect',
    tag: TAG,
    auth: 'management',
    summary: 'Disconnect an account by id, or by connector and identifier',
    body: refBody,
    response: ONE,
    errors: ['not_found'],
  },
  {
    method: 'get',
    route: '/connected_accounts/:id',
    tag: TAG,
    auth: 'management',
    summary: 'Get a connected account',
    params: ID,
    response: ONE,
  },
  {
    method: 'get',
    route: '/connected_accounts/:id/events',
    tag: TAG,
    auth: 'management',
    summary: 'The account’s lifecycle history',
    params: ID,
    query: eventsQuery,
    response: {
      status: 200,
      description: '{ events, next_page_token, prev_page_token, total_size }',
      schema: eventsAnswer,
    },
    errors: ['invalid_request'],
  },
  {
    method: 'delete',
    route: '/connected_accounts/:id',
    tag: TAG,
    auth: 'management',
    summary: 'Delete a connected account (revokes at the provider)',
    params: ID,
    response: EMPTY,
  },
  {
    method: 'post',
    route: '/connected_accounts/:action',
    path: '/connected_accounts/{id}:disconnect',
    tag: TAG,
    auth: 'management',
    summary: 'Disconnect a connected account',
    params: ID,
    response: ONE,
  },
];

export function registerConnectedAccountRoutes(app: Hono<AppEnv>, services: Services): void {
  const { accounts, config, clock } = services;
  const max = config.maxBodyBytes;

  const list = (search: boolean) => async (c: Context<AppEnv>) => {
    const q = readQuery(c, listQuery);
    if (search && (!q.query || q.query.length < 3)) {
      throw new AppError('validation_failed', 'query: give at least 3 characters to search');
    }
    const offset = decodePageToken(q.page_token);
    const names = [...(q.connection_names ?? []), ...(q.connector ? [q.connector] : [])];
    const { rows, total } = await accounts.list({
      connectionNames: names,
      connectionId: q.connection_id,
      identifier: q.identifier,
      provider: q.provider,
      status: q.status,
      query: q.query,
      limit: q.page_size,
      offset,
    });
    return c.json({
      connected_accounts: rows.map((row) => {
        const { c_name, c_provider, ...account } = row;
        const full = accountToApi(account, { id: account.connection_id, name: c_name, provider: c_provider });
        const { authorization_details: _hidden, ...forList } = full;
        return forList;
      }),
      ...pageTokens(offset, q.page_size, total),
    });
  };
  app.get('/connected_accounts', list(false));
  app.get('/connected_accounts:search', list(true));

  app.post('/connected_accounts', async (c) => {
    const body = await readJson(c, createBody, max);
    const token = body.connected_account?.authorization_details?.oauth_token;
    const { account, connection } = await accounts.create(
      body.connector,
      body.identifier,
      token
        ? {
            accessToken: token.access_token,
            refreshToken: token.refresh_token,
            scopes: token.scopes,
            tokenType: 'Bearer',
            expiresAt: token.expires_in ? clock.now() + token.expires_in * 1000 : undefined,
          }
        : undefined,
    );
    return c.json({ connected_account: accountToApi(account, connection) }, 201);
  });

  app.put('/connected_accounts', async (c) => {
    const body = await readJson(c, updateBody, max);
    const token = body.connected_account.authorization_details?.oauth_token;
    const found = await accounts.get(toRef(body));
    if (!token) return c.json({ connected_account: accountToApi(found.account, found.connection) });
    const updated = await accounts.replaceTokens(found.account, found.connection, {
      accessToken: token.access_token,
      refreshToken: token.refresh_token,
      scopes: token.scopes,
      tokenType: 'Bearer',
      expiresAt: token.expires_in ? clock.now() + token.expires_in * 1000 : undefined,
    });
    return c.json({ connected_account: accountToApi(updated, found.connection) });
  });

  const getOne = async (c: Context<AppEnv>) => {
    const q = readQuery(c, z.strictObject(refFields));
    const { account, connection } = await accounts.get(toRef(q));
    return c.json({ connected_account: accountToApi(account, connection) });
  };
  // Tokens never leave Switchboard: /auth answers like /details (see README, "Security model").
  app.get('/connected_accounts/auth', getOne);
  app.get('/connected_accounts/details', getOne);

  app.post('/connected_accounts/magic_link', async (c) => {
    // Per management client: each link is a database row and a consent a stranger may open.
    await services.rateLimiter.consume('magicLink', [`client:${c.get('clientId') ?? 'unknown'}`]);
    const body = await readJson(c, magicLinkBody, max);
    let connection: Awaited<ReturnType<typeof accounts.get>>['connection'];
    let identifierValue: string;
    if (body.id) {
      const found = await accounts.get({ id: body.id });
      connection = found.connection;
      identifierValue = found.account.identifier;
    } else {
      if (!body.connector || !body.identifier)
        throw new AppError('validation_failed', 'give either id, or connector and identifier');
      connection = await services.connections.getByName(body.connector);
      identifierValue = body.identifier;
    }
    const { link, expiry } = await services.connectFlow.authLink(connection, identifierValue, {
      userVerifyUrl: body.user_verify_url,
      state: body.state,
      source: 'api',
    });
    return c.json({ link, expiry } satisfies AuthorizationLink satisfies z.output<typeof linkAnswer>, 200, {
      'cache-control': 'no-store',
    });
  });

  // Reference: VerifyConnectedAccountUser. The app confirms that the person who consented is `identifier`.
  app.post('/connected_accounts/user/verify', async (c) => {
    const body = await readJson(c, verifyBody, max);
    const { postUserVerifyRedirectUrl } = await services.connectFlow.verifyUser(body.auth_request_id, body.identifier);
    return c.json({
      post_user_verify_redirect_url: postUserVerifyRedirectUrl,
    } satisfies z.output<typeof verifyAnswer>);
  });

  app.post('/connected_accounts:delete', async (c) => {
    await accounts.delete(toRef(await readJson(c, refBody, max)));
    return c.json({});
  });

  app.post('/connected_accounts:disconnect', async (c) => {
    const { account, connection } = await accounts.disconnect(toRef(await readJson(c, refBody, max)));
    return c.json({ connected_account: accountToApi(account, connection) });
  });

  app.get('/connected_accounts/:id', async (c) => {
    const { account, connection } = await accounts.get({ id: c.req.param('id') });
    return c.json({ connected_account: accountToApi(account, connection) });
  });

  // The account's lifecycle history (links, consents, verification, refresh failures, disconnects).
  app.get('/connected_accounts/:id/events', async (c) => {
    const q = readQuery(c, eventsQuery);
    const offset = decodePageToken(q.page_token);
    const id = c.req.param('id');
    const { events, total } = await services.accountEvents.list({
      accountId: id,
      type: q.type,
      limit: q.page_size,
      offset,
    });
    // A deleted account keeps its history; an id that never had one is unknown.
    if (total === 0) await accounts.get({ id });
    return c.json({ events, ...pageTokens(offset, q.page_size, total) } satisfies z.output<typeof eventsAnswer>);
  });

  app.delete('/connected_accounts/:id', async (c) => {
    await accounts.delete({ id: c.req.param('id') });
    return c.json({});
  });

  app.post('/connected_accounts/:action', async (c) => {
    const [id, action] = c.req.param('action').split(':');
    if (!id || action !== 'disconnect') throw new AppError('not_found', 'no such action on connected accounts');
    const { account, connection } = await accounts.disconnect({ id });
    return c.json({ connected_account: accountToApi(account, connection) });
  });
}
