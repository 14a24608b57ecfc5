import { z } from 'zod';
import type { ToolDefinition } from './types.js';

const cache = new WeakMap<ToolDefinition, Record<string, unknown>>();

/**
 * The JSON Schema of a tool's input (draft 2020-12, as MCP expects), computed once per tool.
 * Inputs are what the schema accepts, so defaults show as optional fields.
 */
export function toolInputSchema(tool: ToolDefinition): Record<string, unknown> {
  let schema = cache.get(tool);
  if (!schema) {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(tool.input, {
      io: 'input',
      unrepresentable: 'any',
    }) as Record<string, unknown>;
    schema = { type: 'object', ...rest };
    cache.set(tool, schema);
  }
  return schema;
}
