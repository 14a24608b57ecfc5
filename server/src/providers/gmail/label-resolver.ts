import { AppError } from '../../errors.js';
import type { ToolContext } from '../types.js';
import { gmailUrl } from './urls.js';

interface LabelRef {
  id: string;
  name: string;
}

/**
 * Turns the label filters a caller gave into label ids. Models often pass a label's display
 * name ("Work", "inbox") where Gmail wants its id ("Label_12", "INBOX"); names are matched
 * case-insensitively. A label that matches nothing is refused with the list of known
 * labels, instead of a silently empty search.
 */
export async function resolveLabelIds(ctx: ToolContext, wanted: string[]): Promise<string[]> {
  if (wanted.length === 0) return [];
  const answer = await ctx.api.request<{ labels?: LabelRef[] }>({ url: gmailUrl('labels') });
  const labels = answer?.labels ?? [];
  const byId = new Map(labels.map((label) => [label.id, label.id]));
  const byName = new Map(labels.map((label) => [label.name.toLowerCase(), label.id]));
  const unknown: string[] = [];
  const ids = wanted.map((value) => {
    const id = byId.get(value) ?? byId.get(value.toUpperCase()) ?? byName.get(value.toLowerCase());
    if (!id) unknown.push(value);
    return id ?? value;
  });
  if (unknown.length > 0) {
    const known = labels.map((label) => (label.id === label.name ? label.id : `${label.name} (${label.id})`));
    throw new AppError(
      'tool_input_invalid',
      `unknown label ${unknown.map((value) => `"${value}"`).join(', ')}; known labels: ${known.join(', ')}`,
    );
  }
  return [...new Set(ids)];
}
