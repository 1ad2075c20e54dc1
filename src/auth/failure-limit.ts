/**
 * Failed-authentication rate limit: after AUTH_FAILURE_LIMIT failures within
 * AUTH_FAILURE_WINDOW_MS, a subject (a source IP, an access key id, the admin
 * API from an IP) is refused for AUTH_BLOCK_MS without its credentials even
 * being checked. Kept per isolate, in memory: cheap (no I/O on any request),
 * and on Cloudflare an attacker spread over N isolates gets at most N times the
 * allowance, still far too little to guess a 240-bit secret. Hand-written
 * because it is a fixed-window counter over a bounded Map, smaller than any
 * rate-limit library's adapter to Workers.
 */

export const AUTH_FAILURE_LIMIT = 20;
export const AUTH_FAILURE_WINDOW_MS = 60_000;
export const AUTH_BLOCK_MS = 60_000;
/** Subjects remembered per isolate; beyond it, expired ones go first, then the oldest. */
export const AUTH_FAILURE_SUBJECTS_MAX = 10_000;

type Entry = { windowStart: number; failures: number; blockedUntil: number };

export class FailureLimiter {
  readonly #entries = new Map<string, Entry>();

  constructor(
    readonly limit = AUTH_FAILURE_LIMIT,
    readonly windowMs = AUTH_FAILURE_WINDOW_MS,
    readonly blockMs = AUTH_BLOCK_MS,
    readonly maxSubjects = AUTH_FAILURE_SUBJECTS_MAX,
  ) {}

  /** How long `subject` must still wait (ms), 0 when it may try. */
  blockedFor(subject: string, now: number): number {
    const entry = this.#entries.get(subject);
    return entry && entry.blockedUntil > now ? entry.blockedUntil - now : 0;
  }

  /** Counts a failure; the subject is blocked from the failure that reaches the limit. */
  fail(subject: string, now: number): void {
    let entry = this.#entries.get(subject);
    if (!entry || now - entry.windowStart >= this.windowMs) {
      if (!entry) this.#makeRoom(now);
      entry = { windowStart: now, failures: 0, blockedUntil: entry?.blockedUntil ?? 0 };
      this.#entries.set(subject, entry);
    }
    entry.failures += 1;
    if (entry.failures >= this.limit) entry.blockedUntil = Math.max(entry.blockedUntil, now + this.blockMs);
  }

  get size(): number {
    return this.#entries.size;
  }

  #makeRoom(now: number): void {
    if (this.#entries.size < this.maxSubjects) return;
    // First what no longer matters, then subjects that are not blocked (oldest first), then the oldest:
    // a flood of new subjects pushes out blocks last.
    const passes: ((e: Entry) => boolean)[] = [(e) => now - e.windowStart >= this.windowMs && e.blockedUntil <= now, (e) => e.blockedUntil <= now, () => true];
    for (const evictable of passes) {
      for (const [subject, entry] of this.#entries) {
        if (this.#entries.size < this.maxSubjects) return;
        if (evictable(entry)) this.#entries.delete(subject);
      }
    }
  }
}

/** The subjects a request's failures count against: its source IP (when known) and the access key id it claims. */
export function failureSubjects(sourceIp: string | null, accessKeyId: string | null): string[] {
  const subjects: string[] = [];
  if (sourceIp) subjects.push(`ip:${sourceIp}`);
  if (accessKeyId) subjects.push(`key:${accessKeyId}`);
  return subjects;
}

/** The access key id a request claims, before anything is verified: SigV4's Credential, or the bearer token's id. */
export function claimedAccessKeyId(authorization: string): string | null {
  const credential = /Credential=([^/,\s]{1,128})\//.exec(authorization);
  if (credential?.[1] !== undefined) return credential[1];
  if (!authorization.startsWith("Bearer ")) return null;
  const token = authorization.slice("Bearer ".length).trim();
  const dot = token.indexOf(".");
  return dot > 0 && dot <= 128 ? token.slice(0, dot) : null;
}
