import type { CompiledQuery, Kysely } from 'kysely';
import type { Database } from './schema.js';

/** What stands for the i-th value while a query is compiled, found again by identity. */
const slot = (i: number) => `\u0000slot${i}`;

/**
 * A query whose only parameters are some keys' values (`width` values a key, in order), run
 * from a text compiled once per count of keys: a batched cold lookup then costs the driver's
 * work and the database's, not Kysely building and compiling the same shape again for every
 * batch. The dialect wrote the text and its placeholders, so it works on both engines.
 * While statements are traced, each run is built and compiled anew (a span opens when a
 * statement is compiled).
 */
export function compiledPerCount<Row>(
  db: Kysely<Database>,
  compileFor: (values: string[]) => CompiledQuery<Row>,
  options: { width: number; traced: boolean },
): (values: string[]) => Promise<Row[]> {
  if (options.traced) return async (values) => (await db.executeQuery(compileFor(values))).rows;
  const compiled = new Map<number, CompiledQuery<Row>>();
  const compiledFor = (count: number) => {
    let query = compiled.get(count);
    if (query) return query;
    const slots = Array.from({ length: count }, (_, i) => slot(i));
    query = compileFor(slots);
    if (query.parameters.length !== count || query.parameters.some((value, i) => value !== slots[i])) {
      throw new Error('a query compiled per count must have its keys’ values as its only parameters, in order');
    }
    compiled.set(count, query);
    return query;
  };
  return async (values) => {
    if (values.length % options.width !== 0) {
      throw new Error(`${values.length} values do not make keys of ${options.width}`);
    }
    return (await db.executeQuery<Row>({ ...compiledFor(values.length), parameters: values })).rows;
  };
}
