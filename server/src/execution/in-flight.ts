import { rateLimited } from '../rate-limits/rate-limiter.js';

/**
 * How many tool calls run at once in this process, in all and per user. In-flight counts are
 * per process by nature (a call holds memory and a socket here, not on other replicas), so
 * nothing is shared: N replicas run up to N times these numbers. Only users with a call
 * running have an entry, so the map never holds more than `maxInFlight` users.
 */
export class InFlightLimits {
  private total = 0;
  private readonly perUser = new Map<string, number>();

  constructor(private readonly limits: { maxInFlight: number; maxInFlightPerUser: number }) {}

  /** Takes a slot for `user`; throws `rate_limited` when none is free. Call the answer exactly once when done. */
  acquire(user: string): () => void {
    const mine = this.perUser.get(user) ?? 0;
    if (mine >= this.limits.maxInFlightPerUser) {
      throw rateLimited(
        `${user} already has ${mine} tool calls running (at most ${this.limits.maxInFlightPerUser} at once); retry when one has finished`,
        1000,
      );
    }
    if (this.total >= this.limits.maxInFlight) {
      throw rateLimited(
        `the server is running its maximum of ${this.limits.maxInFlight} tool calls at once; retry in a moment`,
        1000,
      );
    }
    this.total += 1;
    this.perUser.set(user, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const left = (this.perUser.get(user) ?? 1) - 1;
      if (left > 0) this.perUser.set(user, left);
      else this.perUser.delete(user);
    };
  }
}
