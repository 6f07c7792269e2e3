import { randomBytes } from 'node:crypto';
import { SifkubeError } from '../../errors.js';

/** The streaming server holds more unused requests than it allows. */
export class TooManyPendingRequestsError extends SifkubeError {
  constructor(max: number) {
    super(`the streaming server already holds ${max} unused exec/attach/port-forward URLs: use or let them expire (1 minute) before asking for more`, 31);
  }
}

/**
 * Pending streaming requests keyed by single-use, unguessable tokens (256 random bits), each valid
 * for `ttlMs` (kubelet's cache: 1 minute, at most 1000 in flight).
 */
export class TokenCache<T> {
  private readonly entries = new Map<string, { value: T; expires: number }>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly maxInFlight = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  insert(value: T): string {
    this.evictExpired();
    if (this.entries.size >= this.maxInFlight) throw new TooManyPendingRequestsError(this.maxInFlight);
    const token = randomBytes(32).toString('base64url');
    this.entries.set(token, { value, expires: this.now() + this.ttlMs });
    return token;
  }

  /** The request for `token` once: a second use, an unknown or an expired token gives undefined. */
  consume(token: string): T | undefined {
    const e = this.entries.get(token);
    if (!e) return undefined;
    this.entries.delete(token);
    return e.expires > this.now() ? e.value : undefined;
  }

  private evictExpired(): void {
    const now = this.now();
    for (const [k, e] of this.entries) if (e.expires <= now) this.entries.delete(k);
  }
}
