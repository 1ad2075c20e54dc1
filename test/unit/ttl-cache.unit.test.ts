import { describe, expect, it } from "vitest";
import { TtlCache } from "../../src/util/ttl-cache";

const T0 = Date.UTC(2026, 0, 1);

/** A read that counts its calls and answers the next value. */
function counter() {
  let n = 0;
  return { read: async () => ++n, calls: () => n };
}

describe("TtlCache", () => {
  it("serves a fresh entry without reading and reads again once it has expired", async () => {
    const cache = new TtlCache<number>(1_000, 10);
    const c = counter();
    expect(await cache.get("a", c.read, T0)).toBe(1);
    expect(await cache.get("a", c.read, T0 + 999)).toBe(1);
    expect(cache.peek("a", T0 + 999)).toEqual({ value: 1 });
    expect(cache.peek("a", T0 + 1_000)).toBeUndefined();
    expect(await cache.get("a", c.read, T0 + 1_000)).toBe(2);
    expect(c.calls()).toBe(2);
  });

  it("lets one caller read again in the refresh-ahead window while the others keep the entry", async () => {
    const cache = new TtlCache<number>(1_000, 10, 200);
    const c = counter();
    await cache.get("a", c.read, T0);
    expect(await cache.get("a", c.read, T0 + 799)).toBe(1);
    const [refreshed, concurrent] = await Promise.all([cache.get("a", c.read, T0 + 801), cache.get("a", c.read, T0 + 801)]);
    expect([refreshed, concurrent]).toEqual([2, 1]);
    expect(await cache.get("a", c.read, T0 + 802)).toBe(2);
  });

  it("keeps the entry and lets the next caller try again when a refresh fails", async () => {
    const cache = new TtlCache<number>(1_000, 10, 200);
    await cache.get("a", async () => 1, T0);
    await expect(cache.get("a", async () => Promise.reject(new Error("D1 down")), T0 + 900)).rejects.toThrow("D1 down");
    expect(await cache.get("a", async () => 3, T0 + 901)).toBe(3);
  });

  it("starts over past maxEntries", async () => {
    const cache = new TtlCache<number>(1_000, 2);
    await cache.get("a", async () => 1, T0);
    await cache.get("b", async () => 2, T0);
    await cache.get("c", async () => 3, T0);
    expect(cache.peek("a", T0)).toBeUndefined();
    expect(cache.peek("c", T0)).toEqual({ value: 3 });
  });

  it("drops entries by key prefix and by value", async () => {
    const cache = new TtlCache<{ owner: string } | null>(1_000, 10);
    await cache.get("t1/f", async () => ({ owner: "x" }), T0);
    await cache.get("t1/g", async () => ({ owner: "y" }), T0);
    await cache.get("t2/f", async () => ({ owner: "x" }), T0);
    await cache.get("none", async () => null, T0);
    cache.deleteWhere((v) => v?.owner === "x");
    expect(["t1/f", "t1/g", "t2/f", "none"].map((k) => cache.peek(k, T0) !== undefined)).toEqual([false, true, false, true]);
    cache.deletePrefix("t1/");
    expect(cache.peek("t1/g", T0)).toBeUndefined();
    expect(cache.peek("none", T0)).toEqual({ value: null });
  });
});
