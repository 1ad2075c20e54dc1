/**
 * A read-through cache in this isolate with a time to live: the shape the
 * frontend's metadata caches share (access keys, function targets, tenant
 * rows). A fresh entry is served as it is; one in its last `refreshAheadMs`
 * is read again by the first caller that sees it while the others keep using
 * it (never past its expiry), so the requests arriving as it expires do not
 * all read D1; past `maxEntries` the map starts over (bounded memory without
 * LRU bookkeeping). Hand-written: a dozen lines, and no library keeps an
 * isolate-local map with refresh-ahead.
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number; refreshing: boolean }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly refreshAheadMs = 0,
  ) {}

  /** The fresh entry of `key`, without any read (undefined when there is none). */
  peek(key: string, now = Date.now()): { value: V } | undefined {
    const hit = this.#entries.get(key);
    return hit && hit.expiresAt > now ? { value: hit.value } : undefined;
  }

  /** The value of `key`: the cached one while fresh, else (or, near its expiry, for one caller) `read()`'s. */
  async get(key: string, read: () => Promise<V>, now = Date.now()): Promise<V> {
    const hit = this.#entries.get(key);
    if (hit && hit.expiresAt > now) {
      if (hit.refreshing || hit.expiresAt - now > this.refreshAheadMs) return hit.value;
      hit.refreshing = true;
    }
    let value: V;
    try {
      value = await read();
    } catch (error) {
      if (hit) hit.refreshing = false;
      throw error;
    }
    if (this.#entries.size >= this.maxEntries) this.#entries.clear();
    this.#entries.set(key, { value, expiresAt: now + this.ttlMs, refreshing: false });
    return value;
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Drops every entry whose key starts with `prefix`. */
  deletePrefix(prefix: string): void {
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) this.#entries.delete(key);
  }

  /** Drops every entry whose value matches (for caches keyed by something other than what changed). */
  deleteWhere(matches: (value: V) => boolean): void {
    for (const [key, entry] of this.#entries) if (matches(entry.value)) this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
