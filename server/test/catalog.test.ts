import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { extensionsOf, TOOL_EXTENSIONS } from '../src/providers/extensions.js';
import { createCatalog } from '../src/providers/index.js';
import { toolInputSchema } from '../src/providers/json-schema.js';
import type { ToolDefinition } from '../src/providers/types.js';
import { type ReferenceTool, referenceTools } from './support/reference.js';

/**
 * The contract of the whole tool catalog: the vendor's reference signatures (a fixture in
 * test/fixtures/reference/), valid JSON Schemas, scopes, descriptions and
 * MCP annotations that say what each tool does to the user's data.
 */

interface JsonSchemaObject {
  type?: string;
  properties?: Record<string, { type?: string }>;
  required?: string[];
}

const PROVIDERS = { gmail: 56, googlecalendar: 30 } as const;

function loadReference(): Record<keyof typeof PROVIDERS, ReferenceTool[]> {
  return { gmail: referenceTools('gmail'), googlecalendar: referenceTools('googlecalendar') };
}

const catalog = createCatalog();
const entries = [...catalog.tools.values()];
const tools: ToolDefinition[] = entries.map((entry) => entry.tool);
const schemaOf = (tool: ToolDefinition) => toolInputSchema(tool) as JsonSchemaObject;

// The verb right after the provider prefix: "googlecalendar_add_calendar_to_list" adds.
const verbOf = (name: string) => name.split('_')[1] ?? '';
const READ_VERBS = new Set(['get', 'list', 'fetch', 'search', 'find']);
const isDeleteTool = (name: string) => name.split('_').slice(1).includes('delete');

const GOOGLE_SCOPE = /^https:\/\/www\.googleapis\.com\/auth\/[a-z][a-z0-9._-]*$/;

describe('tool catalog contract', () => {
  it('has unique names: exactly 56 gmail and 30 googlecalendar tools', () => {
    expect(new Set(tools.map((tool) => tool.name)).size).toBe(tools.length);
    for (const [provider, count] of Object.entries(PROVIDERS)) {
      const own = entries.filter((entry) => entry.provider.name === provider);
      expect(own, provider).toHaveLength(count);
      for (const { tool } of own) expect(tool.name.startsWith(`${provider}_`), tool.name).toBe(true);
    }
  });

  it('has every reference tool, and no tool the reference lacks', () => {
    const reference = loadReference();
    for (const provider of Object.keys(PROVIDERS) as (keyof typeof PROVIDERS)[]) {
      const ours = entries.filter((entry) => entry.provider.name === provider).map((entry) => entry.tool.name);
      expect(ours.sort(), provider).toEqual(reference[provider].map((tool) => tool.name).sort());
    }
  });

  it('takes every reference parameter with the same JSON type and required flag', () => {
    const reference = loadReference();
    for (const expected of [...reference.gmail, ...reference.googlecalendar]) {
      const tool = catalog.tools.get(expected.name)?.tool;
      expect(tool, expected.name).toBeDefined();
      if (!tool) continue;
      const schema = schemaOf(tool);
      const required = new Set(schema.required ?? []);
      for (const param of expected.params) {
        const where = `${expected.name}.${param.name}`;
        expect(schema.properties?.[param.name], where).toBeDefined();
        expect(schema.properties?.[param.name]?.type, where).toBe(param.type);
        expect(required.has(param.name), `${where} required`).toBe(param.required);
      }
    }
  });

  it('has extra parameters only from the extension allowlist, all optional', () => {
    const reference = loadReference();
    const referenced = new Map(
      [...reference.gmail, ...reference.googlecalendar].map((tool) => [tool.name, tool.params.map((p) => p.name)]),
    );
    for (const tool of tools) {
      const schema = schemaOf(tool);
      const known = referenced.get(tool.name) ?? [];
      const extras = Object.keys(schema.properties ?? {}).filter((name) => !known.includes(name));
      expect(
        extras.filter((name) => !extensionsOf(tool.name).includes(name)),
        `${tool.name}: parameters neither in the reference nor in TOOL_EXTENSIONS`,
      ).toEqual([]);
      expect(
        extras.filter((name) => schema.required?.includes(name)),
        `${tool.name}: required extensions`,
      ).toEqual([]);
    }
    // The allowlist names only parameters that exist, on tools that exist.
    for (const [name, params] of Object.entries(TOOL_EXTENSIONS)) {
      const tool = catalog.tools.get(name)?.tool;
      expect(tool, name).toBeDefined();
      if (tool)
        for (const param of params) expect(schemaOf(tool).properties?.[param], `${name}.${param}`).toBeDefined();
    }
  });

  it('publishes input schemas that a JSON Schema 2020-12 validator compiles', () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    // ajv-formats is CommonJS: under ESM its plugin is the `default` of module.exports.
    addFormatsPlugin.default(ajv);
    for (const tool of tools) {
      const schema = toolInputSchema(tool);
      expect(schema.type, tool.name).toBe('object');
      expect(ajv.validateSchema(schema), `${tool.name}: ${ajv.errorsText(ajv.errors)}`).toBe(true);
      expect(() => ajv.compile(schema), tool.name).not.toThrow();
    }
  });

  it('declares at least one Google OAuth scope per tool', () => {
    for (const tool of tools) {
      expect(tool.scopes.length, tool.name).toBeGreaterThan(0);
      for (const scope of tool.scopes) {
        expect(scope === 'https://mail.google.com/' || GOOGLE_SCOPE.test(scope), `${tool.name}: ${scope}`).toBe(true);
      }
    }
  });

  it('describes every tool in at least 40 characters, each differently', () => {
    const seen = new Map<string, string>();
    for (const tool of tools) {
      expect(tool.description.trim().length, tool.name).toBeGreaterThanOrEqual(40);
      const key = tool.description.trim().toLowerCase();
      expect(seen.get(key), `${tool.name} repeats the description of ${seen.get(key)}`).toBeUndefined();
      seen.set(key, tool.name);
    }
  });

  it('annotates every tool with boolean hints', () => {
    for (const tool of tools) {
      const { readOnlyHint, destructiveHint, idempotentHint, openWorldHint } = tool.annotations;
      for (const [hint, value] of Object.entries({ readOnlyHint, destructiveHint, idempotentHint, openWorldHint })) {
        expect(typeof value, `${tool.name}.${hint}`).toBe('boolean');
      }
    }
  });

  it('marks get/list/fetch/search/find tools read-only and not destructive', () => {
    const readers = tools.filter((tool) => READ_VERBS.has(verbOf(tool.name)));
    expect(readers.length).toBeGreaterThan(20);
    for (const tool of readers) {
      expect(tool.annotations, tool.name).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    }
  });

  it('marks delete tools destructive and not read-only', () => {
    const deleters = tools.filter((tool) => isDeleteTool(tool.name));
    expect(deleters.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['gmail_delete_message', 'gmail_batch_delete_messages', 'googlecalendar_delete_event']),
    );
    for (const tool of deleters) {
      expect(tool.annotations, tool.name).toMatchObject({ destructiveHint: true, readOnlyHint: false });
    }
  });
});
