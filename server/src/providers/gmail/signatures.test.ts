import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { referenceTools } from '../../../test/support/reference.js';
import { extensionsOf } from '../extensions.js';
import { gmailTools } from './tools/index.js';

interface JsonSchemaObject {
  properties?: Record<string, { type?: string; description?: string }>;
  required?: string[];
}

describe('gmail tool catalog', () => {
  test('has 56 tools with unique names', () => {
    expect(gmailTools).toHaveLength(56);
    expect(new Set(gmailTools.map((tool) => tool.name)).size).toBe(56);
  });

  test('every tool has a description, scopes, a title and a described field per parameter', () => {
    for (const tool of gmailTools) {
      expect(tool.description.length, tool.name).toBeGreaterThan(60);
      expect(tool.scopes.length, tool.name).toBeGreaterThan(0);
      expect(tool.annotations.title, tool.name).toBeTruthy();
      if (tool.annotations.readOnlyHint) expect(tool.annotations.destructiveHint, tool.name).toBe(false);
      const schema = z.toJSONSchema(tool.input, { io: 'input' }) as JsonSchemaObject;
      for (const [name, property] of Object.entries(schema.properties ?? {})) {
        expect(property.description, `${tool.name}.${name}`).toBeTruthy();
      }
    }
  });

  test('names, parameter types and required lists match the reference', () => {
    const reference = referenceTools('gmail');
    const byName = new Map(gmailTools.map((tool) => [tool.name, tool]));
    expect([...byName.keys()].sort()).toEqual(reference.map((tool) => tool.name).sort());
    for (const expected of reference) {
      const tool = byName.get(expected.name);
      if (!tool) continue;
      const schema = z.toJSONSchema(tool.input, { io: 'input' }) as JsonSchemaObject;
      const properties = schema.properties ?? {};
      // Extra parameters only from the extension allowlist, and never required.
      const extras = Object.keys(properties).filter((name) => !expected.params.some((p) => p.name === name));
      expect(extras, expected.name).toEqual(extras.filter((name) => extensionsOf(expected.name).includes(name)));
      for (const param of expected.params)
        expect(properties[param.name], `${expected.name}.${param.name}`).toBeDefined();
      for (const param of expected.params) {
        expect(properties[param.name]?.type, `${expected.name}.${param.name}`).toBe(param.type);
      }
      expect([...(schema.required ?? [])].sort(), expected.name).toEqual(
        expected.params
          .filter((p) => p.required)
          .map((p) => p.name)
          .sort(),
      );
    }
  });
});
