/**
 * The CPU time (user + system, this process) a synchronous or asynchronous piece of work
 * took, in ms. Unlike wall time it does not grow when other processes load the machine, so a
 * bound on it holds on a busy CI box: a linear-time guard stays a guard without flaking.
 */
export async function cpuTimeMs<T>(run: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const started = process.cpuUsage();
  const value = await run();
  const used = process.cpuUsage(started);
  return { value, ms: (used.user + used.system) / 1000 };
}
