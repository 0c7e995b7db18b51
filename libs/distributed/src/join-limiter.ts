/**
 * Join admission for the coordinator: a token bucket per peer host and a cap on Join calls held open. Join is the
 * one call that parks state on the coordinator (a long-poll), so it is what a flood would use; honest workers join
 * once and retry with a backoff of at least 200 ms, far below these limits.
 * Tests: node tools/run-tests.mjs libs/distributed join-limiter
 */
import { performance } from 'node:perf_hooks';

export interface JoinLimits {
  /** calls a host may make at once after a quiet spell */
  burst: number;
  /** sustained calls per second per host */
  perSecond: number;
  /** hosts tracked at most; beyond it the oldest are forgotten */
  maxHosts: number;
}

const DEFAULTS: JoinLimits = { burst: 32, perSecond: 8, maxHosts: 4096 };

export class JoinLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** calls refused so far */
  refused = 0;

  constructor(
    private readonly limits: JoinLimits = DEFAULTS,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /**
   * Null when the call may proceed, else the refusal's details. `pending`: Join calls held open now; at most
   * 2 × workers + 16 are held (retries replace their own entry, so honest runs stay far below).
   */
  admit(peer: string, pending: number, workers: number): string | null {
    if (pending >= 2 * workers + 16) {
      this.refused += 1;
      return `too many workers waiting to join (${pending})`;
    }
    const host = peer.replace(/:\d+$/, '');
    const t = this.clock();
    let b = this.buckets.get(host);
    if (!b) {
      if (this.buckets.size >= this.limits.maxHosts) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: this.limits.burst, at: t };
      this.buckets.set(host, b);
    }
    b.tokens = Math.min(this.limits.burst, b.tokens + ((t - b.at) / 1000) * this.limits.perSecond);
    b.at = t;
    if (b.tokens < 1) {
      this.refused += 1;
      return 'too many Join calls from this host; retry later';
    }
    b.tokens -= 1;
    return null;
  }
}
