import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { referenceTools } from '../../../../test/support/reference.js';
import { extensionsOf } from '../../extensions.js';
import { googleCalendarTools } from './index.js';

interface JsonSchemaObject {
  properties?: Record<string, { type?: string; description?: string }>;
  required?: string[];
}

describe('googleCalendarTools', () => {
  it('lists 30 tools with unique names, descriptions and scopes', () => {
    expect(googleCalendarTools).toHaveLength(30);
    expect(new Set(googleCalendarTools.map((tool) => tool.name)).size).toBe(30);
    for (const tool of googleCalendarTools) {
      expect(tool.name).toMatch(/^googlecalendar_[a-z_]+$/);
      expect(tool.description.length).toBeGreaterThan(80);
      expect(tool.scopes).toContain('https://www.googleapis.com/auth/calendar');
      if (tool.annotations.readOnlyHint) expect(tool.annotations.destructiveHint).toBe(false);
    }
  });

  it('describes every input field', () => {
    for (const tool of googleCalendarTools) {
      for (const io of ['input', 'output'] as const) {
        const schema = z.toJSONSchema(tool.input, { io }) as JsonSchemaObject;
        for (const [name, property] of Object.entries(schema.properties ?? {})) {
          expect(property.description, `${tool.name}.${name}`).toBeTruthy();
        }
      }
    }
  });

  it('matches the reference signatures: names, JSON types and required flags; extras only optional allowlisted extensions', () => {
    const reference = referenceTools('googlecalendar');
    const byName = new Map(googleCalendarTools.map((tool) => [tool.name, tool]));
    expect([...byName.keys()].sort()).toEqual(reference.map((tool) => tool.name).sort());
    for (const expected of reference) {
      const tool = byName.get(expected.name);
      const extensions = extensionsOf(expected.name);
      for (const io of ['input', 'output'] as const) {
        const schema = z.toJSONSchema(tool?.input ?? z.object({}), { io }) as JsonSchemaObject;
        const properties = schema.properties ?? {};
        const required = schema.required ?? [];
        const referenceNames = new Set(expected.params.map((p) => p.name));
        const types = Object.fromEntries(
          Object.entries(properties)
            .filter(([name]) => referenceNames.has(name))
            .map(([name, property]) => [name, property.type]),
        );
        expect(types, `${expected.name} (${io})`).toEqual(
          Object.fromEntries(expected.params.map((p) => [p.name, p.type])),
        );
        const extras = Object.keys(properties).filter((name) => !referenceNames.has(name));
        expect(
          extras.filter((name) => !extensions.includes(name)),
          `${expected.name} unlisted extras`,
        ).toEqual([]);
        expect(
          extras.filter((name) => required.includes(name)),
          `${expected.name} required extras (${io})`,
        ).toEqual([]);
        expect([...required].sort(), `${expected.name} required (${io})`).toEqual(
          expected.params
            .filter((p) => p.required)
            .map((p) => p.name)
            .sort(),
        );
      }
    }
  });

  it('lists only extensions that exist on their tool and are optional', () => {
    for (const tool of googleCalendarTools) {
      const properties = (z.toJSONSchema(tool.input, { io: 'input' }) as JsonSchemaObject).properties ?? {};
      for (const name of extensionsOf(tool.name)) expect(properties[name], `${tool.name}.${name}`).toBeDefined();
    }
    expect(extensionsOf('googlecalendar_create_event')).toEqual(['reminders', 'color_id']);
  });
});
