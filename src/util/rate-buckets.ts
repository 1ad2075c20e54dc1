/**
 * Token buckets by key, for the request rate quotas (invocations:
 * src/invoke/rate-quota.ts; control-plane APIs: src/routes/api-rate.ts): each
 * key's bucket refills at its rate per second up to one second's worth (the
 * burst), and a request takes one token. Kept in the isolate's memory (a
 * rate-limit library would bring a shared store, KV or Redis, that these
 * paths cannot afford a round trip to). PURE but for its own state: the
 * clock is passed in.
 */
export class RateBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly maxKeys = 10_000) {}

  /** Takes one request from `key`'s bucket of `perSecond` at `now`; false when it is empty. */
  take(key: string, perSecond: number, now: number): boolean {
    const state = this.#refilled(key, perSecond, now);
    if (state.tokens < 1) return false;
    state.tokens -= 1;
    return true;
  }

  #refilled(key: string, perSecond: number, now: number): { tokens: number; at: number } {
    let state = this.#buckets.get(key);
    if (state === undefined) {
      // Bounded like the isolate's other caches: forgetting a bucket only refills it.
      if (this.#buckets.size >= this.maxKeys) this.#buckets.clear();
      state = { tokens: perSecond, at: now };
      this.#buckets.set(key, state);
      return state;
    }
    // A lowered limit applies at once: the burst never exceeds one second at the current rate.
    state.tokens = Math.min(perSecond, state.tokens + (Math.max(0, now - state.at) * perSecond) / 1000);
    state.at = now;
    return state;
  }
}

