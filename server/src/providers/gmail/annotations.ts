import type { ToolAnnotations } from '../types.js';

/**
 * MCP annotation presets. Every Gmail tool talks to Google, so openWorldHint is always
 * true. "destructive" marks calls that delete data or overwrite values the caller may not
 * have seen (settings, draft content); adding or removing labels is reversible and is not.
 */
export function readOnly(title: string): ToolAnnotations {
  return { title, readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };
}

/** Creates something new each call (sending mail, a new draft, a label). */
export function creates(title: string): ToolAnnotations {
  return { title, readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true };
}

/** Sets state to a given value; repeating the call changes nothing more. */
export function setsState(title: string, destructive: boolean): ToolAnnotations {
  return { title, readOnlyHint: false, destructiveHint: destructive, idempotentHint: true, openWorldHint: true };
}

/** Removes something; a repeat finds it gone. */
export function deletes(title: string): ToolAnnotations {
  return { title, readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true };
}
