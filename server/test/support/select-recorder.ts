import type { KyselyPlugin } from 'kysely';

/**
 * Counts the SELECTs run while `recording` (the change feed's poll left out); `during` runs as
 * the next one's rows arrive, before its caller sees them. Counted per execution, not per
 * compile: a cold lookup is compiled once and run many times.
 */
export function selectRecorder() {
  const state = { recording: false, selects: 0, during: undefined as (() => void) | undefined };
  const isCounted = new WeakMap<object, boolean>();
  const plugin: KyselyPlugin = {
    transformQuery({ node, queryId }) {
      isCounted.set(queryId, node.kind === 'SelectQueryNode' && !JSON.stringify(node).includes('"change_versions"'));
      return node;
    },
    transformResult: async ({ result, queryId }) => {
      if (isCounted.get(queryId)) {
        if (state.recording) state.selects++;
        const during = state.during;
        state.during = undefined;
        during?.();
      }
      return result;
    },
  };
  /** The SELECTs `work` made, and its result. */
  const counted = async <T>(work: () => Promise<T>): Promise<{ selects: number; result: T }> => {
    state.selects = 0;
    state.recording = true;
    try {
      const result = await work();
      return { selects: state.selects, result };
    } finally {
      state.recording = false;
    }
  };
  return { state, plugin, counted };
}
