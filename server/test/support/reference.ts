import { readFileSync } from 'node:fs';

/** One tool of the hosted product's public signatures: its name and parameters. */
export interface ReferenceTool {
  name: string;
  params: { name: string; type: string; required: boolean }[];
}

/** The hosted product's public tool signatures, kept in the repository (fixtures/reference/README.md). */
export const TOOL_SIGNATURES_URL = new URL('../fixtures/reference/tool-signatures.json', import.meta.url);

/** The reference tools of `provider`; throws if the fixture has none, so a contract never passes empty. */
export function referenceTools(provider: string): ReferenceTool[] {
  const all = JSON.parse(readFileSync(TOOL_SIGNATURES_URL, 'utf8')) as Record<string, ReferenceTool[] | undefined>;
  const tools = all[provider];
  if (!tools?.length)
    throw new Error(`no reference tool signatures for ${provider} in ${TOOL_SIGNATURES_URL.pathname}`);
  return tools;
}
