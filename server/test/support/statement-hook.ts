import type { KyselyPlugin, RootOperationNode } from 'kysely';

/**
 * A Kysely plugin that runs `next` once, right after the next statement `matches` picks has
 * run and before its caller sees the result: another replica's work, placed deterministically
 * between two statements of the code under test. `next` is cleared when it runs, so a test
 * can check it did.
 */
export class StatementHook {
  next: (() => unknown) | undefined;
  readonly plugin: KyselyPlugin;

  constructor(matches: (node: RootOperationNode) => boolean) {
    const picked = new WeakSet<object>();
    this.plugin = {
      transformQuery: (args) => {
        if (matches(args.node)) picked.add(args.queryId);
        return args.node;
      },
      transformResult: async (args) => {
        const work = this.next;
        if (work && picked.has(args.queryId)) {
          this.next = undefined;
          await work();
        }
        return args.result;
      },
    };
  }
}
