import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../errors.js';
import { openApiPath, type RouteDoc, wireSchemas } from '../http/route-docs.js';

type JsonSchema = Record<string, unknown>;

/** The REST error envelope, from the closed table in errors.ts. */
const errorEnvelope = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
  request_id: z.string().optional(),
});

/** What every route of a kind can answer, so each route lists only its own extra codes. */
function errorCodes(doc: RouteDoc): ErrorCode[] {
  const codes = new Set<ErrorCode>(doc.errors ?? []);
  if (doc.auth === 'management') {
    codes.add('unauthenticated');
    codes.add('forbidden');
  }
  if (doc.body) {
    for (const code of ['invalid_json', 'validation_failed', 'unsupported_media_type', 'payload_too_large'] as const) {
      codes.add(code);
    }
  }
  if (doc.query) codes.add('validation_failed');
  if (/\/:[A-Za-z_]/.test(doc.route)) codes.add('not_found');
  if (doc.response.contentType === undefined || doc.response.contentType === 'application/json') codes.add('internal');
  return [...codes];
}

/** zod → JSON Schema as callers send it (`io: 'input'`: defaults optional, transforms before they run). */
function inputSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}

/**
 * zod → JSON Schema of an answer as it is sent (`io: 'output'`: objects closed, every field the
 * handler always sends required). Shapes registered in `wireSchemas` become
 * `#/components/schemas/{id}` references, collected into `components`.
 */
function outputSchema(schema: z.ZodType, components: Record<string, JsonSchema>): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io: 'output',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    metadata: wireSchemas,
  }) as JsonSchema;
  delete json.$schema;
  const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
  delete json.$defs;
  const relink = (value: JsonSchema) =>
    JSON.parse(JSON.stringify(value).replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema;
  for (const [id, def] of Object.entries(defs)) {
    const linked = relink(def);
    const known = components[id];
    if (known && JSON.stringify(known) !== JSON.stringify(linked)) {
      throw new Error(`two different schemas are registered as ${id}`);
    }
    components[id] = linked;
  }
  return relink(json);
}

function queryParameters(schema: z.ZodType): JsonSchema[] {
  const json = inputSchema(schema);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.has(name),
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: property,
  }));
}

function pathParameters(doc: RouteDoc, path: string): JsonSchema[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map(([, name = '']) => ({
    name,
    in: 'path',
    required: true,
    description: doc.params?.[name] ?? name,
    schema: { type: 'string' },
  }));
}

const OAUTH_ERROR = {
  description: 'RFC 6749 §5.2: { error, error_description }',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['error'],
        properties: { error: { type: 'string' }, error_description: { type: 'string' } },
      },
    },
  },
};

/** What the MCP endpoints answer when they refuse a request before (or instead of) the protocol. */
const JSONRPC_ERROR = {
  description: 'a JSON-RPC error: { jsonrpc, id, error: { code, message } }',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['jsonrpc', 'error'],
        properties: {
          jsonrpc: { const: '2.0' },
          id: { type: ['string', 'number', 'null'] },
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: { code: { type: 'integer' }, message: { type: 'string' } },
          },
        },
      },
    },
  },
};

function errorResponses(doc: RouteDoc): Record<string, JsonSchema> {
  if (doc.errorFormat === 'oauth') {
    return Object.fromEntries((doc.errorStatuses ?? [400, 401, 413]).map((status) => [String(status), OAUTH_ERROR]));
  }
  if (doc.errorFormat === 'jsonrpc') {
    return Object.fromEntries((doc.errorStatuses ?? []).map((status) => [String(status), JSONRPC_ERROR]));
  }
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodes(doc)) {
    const status = ERROR_CODES[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, JsonSchema> = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const description = `error.code: ${codes.join(', ')}`;
    // Pages answer their failures as pages; the code is what the page says went wrong.
    if (doc.response.contentType && doc.response.contentType !== 'application/json') {
      out[String(status)] = { description, content: { [doc.response.contentType]: { schema: { type: 'string' } } } };
      continue;
    }
    out[String(status)] = {
      description,
      content: {
        'application/json': {
          schema: {
            allOf: [
              { $ref: '#/components/schemas/Error' },
              { type: 'object', properties: { error: { type: 'object', properties: { code: { enum: codes } } } } },
            ],
          },
        },
      },
    };
  }
  return out;
}

function security(doc: RouteDoc): JsonSchema[] {
  if (doc.auth === 'management') return [{ managementToken: [] }, { clientCredentials: [] }];
  if (doc.auth === 'mcp') return [{ mcpToken: [] }, {}];
  return [];
}

function successResponses(doc: RouteDoc, components: Record<string, JsonSchema>): Record<string, JsonSchema> {
  const contentType = doc.response.contentType ?? 'application/json';
  const schema = doc.response.schema
    ? outputSchema(doc.response.schema, components)
    : contentType === 'application/json'
      ? { type: 'object' }
      : { type: 'string' };
  const out: Record<string, JsonSchema> = {};
  for (const status of [doc.response.status, ...(doc.response.also ?? [])]) {
    const description = doc.response.description;
    if (status >= 300 && status < 400) {
      out[String(status)] = { description, headers: { Location: { required: true, schema: { type: 'string' } } } };
    } else if (status === 202 || status === 204 || doc.response.empty) {
      out[String(status)] = { description };
    } else {
      const events = doc.response.events
        ? {
            'text/event-stream': {
              schema: {
                type: 'string',
                description: 'server-sent events; each data: line is one message of x-event-data',
              },
              // OpenAPI 3.2's itemSchema; an extension field keeps the document valid 3.1.
              'x-event-data': schema,
            },
          }
        : {};
      out[String(status)] = { description, content: { [contentType]: { schema }, ...events } };
    }
  }
  return out;
}

function operation(doc: RouteDoc, path: string, components: Record<string, JsonSchema>): JsonSchema {
  const op: JsonSchema = {
    operationId: `${doc.method}${path.replace(/[^A-Za-z0-9]+/g, '_')}`,
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag],
    parameters: [...pathParameters(doc, path), ...(doc.query ? queryParameters(doc.query) : [])],
    security: security(doc),
    responses: { ...successResponses(doc, components), ...errorResponses(doc) },
  };
  if (doc.body) {
    op.requestBody = {
      required: true,
      content: {
        [doc.form ? 'application/x-www-form-urlencoded' : 'application/json']: { schema: inputSchema(doc.body) },
      },
    };
  }
  return op;
}

/** The OpenAPI 3.1 document of the routes given, built from their zod schemas and the error table. */
export function openApiDocument(docs: readonly RouteDoc[], info: { publicUrl: string; version: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const schemas: Record<string, JsonSchema> = { Error: inputSchema(errorEnvelope) };
  for (const doc of docs) {
    const path = doc.path ?? openApiPath(doc.route);
    paths[path] ??= {};
    paths[path][doc.method] = operation(doc, path, schemas);
  }
  const tokenUrl = new URL('/oauth/token', info.publicUrl).href;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Switchboard',
      version: info.version,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      description:
        'The management REST API (/api/v1), the pages people open to connect an account, the MCP endpoints and the well-known documents. Generated from the zod schemas that validate each request.',
    },
    servers: [{ url: info.publicUrl }],
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: {
        managementToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A management access token from POST /oauth/token (grant_type=client_credentials).',
        },
        clientCredentials: {
          type: 'oauth2',
          description: 'The OAuth 2.0 client credentials of a management API client (see /api/v1/clients).',
          flows: { clientCredentials: { tokenUrl, scopes: {} } },
        },
        mcpToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            'At /mcp/c/{configId}: an access token from the MCP sign-in (/mcp-oauth/token) or a session token minted by /api/v1/mcp/configs/{id}/tokens. Instance URLs carry their own secret instead.',
        },
      },
    },
  };
}
