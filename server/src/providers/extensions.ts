/**
 * Parameters a tool takes beyond its reference signature, by tool name. Each must be
 * optional, so a caller that knows only the reference signature is never refused; the
 * signature tests allow no other extra parameter.
 */
export const TOOL_EXTENSIONS: Readonly<Record<string, readonly string[]>> = {
  // The issue asks for reminders "as Google supports them", which the reference lacks.
  googlecalendar_create_event: ['reminders', 'color_id'],
};

export function extensionsOf(toolName: string): readonly string[] {
  return TOOL_EXTENSIONS[toolName] ?? [];
}
