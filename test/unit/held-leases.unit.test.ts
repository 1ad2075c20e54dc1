import { describe, expect, it } from "vitest";
import type { HeldLease } from "../../src/invoke/held-leases";
import { flushHeld, hold, LEASE_LINGER_MAX_MS, LEASE_LINGER_MS, lingerLeft, poolKey, takeHeld } from "../../src/invoke/held-leases";

let n = 0;
function keyFor(fn = `t/f${n++}`) {
  return poolKey({ functionKey: fn, versionKey: "1@r", isolationKey: "", reserved: null, unreservedLimit: 100 });
}
const lease = (id: string, expiresAt = Date.now() + 60_000): HeldLease => ({ leaseId: id, environmentId: `env-${id}`, expiresAt });

describe("held leases", () => {
  it("hands a held lease to the next invocation instead of releasing it", async () => {
    const key = keyFor();
    const released: string[] = [];
    const done = hold(key, lease("a"), async (l) => void released.push(l.leaseId));
    expect(takeHeld(key, 3_000)?.leaseId).toBe("a");
    expect(takeHeld(key, 3_000)).toBeUndefined();
    await done;
    expect(released).toEqual([]);
  });

  it("releases a lease nobody took after the linger time", async () => {
    const key = keyFor();
    const released: string[] = [];
    const started = Date.now();
    await hold(key, lease("b"), async (l) => void released.push(l.leaseId));
    expect(Date.now() - started).toBeGreaterThanOrEqual(LEASE_LINGER_MS - 5);
    expect(released).toEqual(["b"]);
    expect(takeHeld(key, 3_000)).toBeUndefined();
  });

  it("keeps a lease while its pool is busy and gives it back once the pool is quiet", async () => {
    const key = keyFor();
    let releasedAt: number | undefined;
    const done = hold(key, lease("busy"), async () => void (releasedAt = Date.now()));
    // Other invocations of the pool come and go (another lease held and taken) for 3 quiet times.
    const until = Date.now() + 3 * LEASE_LINGER_MS;
    let lastActivity = Date.now();
    let longestGap = 0;
    while (Date.now() < until) {
      void hold(key, lease("other"), async () => {});
      expect(takeHeld(key, 3_000)?.leaseId).toBe("other");
      longestGap = Math.max(longestGap, Date.now() - lastActivity);
      lastActivity = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await done;
    expect(releasedAt).toBeDefined();
    // A loaded machine can stall this loop past the quiet time: then the pool was quiet and an early release was right.
    if (longestGap < LEASE_LINGER_MS - 25) expect(releasedAt! - lastActivity).toBeGreaterThanOrEqual(LEASE_LINGER_MS - 5);
  });

  it("waits for the pool's quiet time, never longer than the cap", () => {
    const heldAt = 1_000_000;
    expect(lingerLeft(heldAt, heldAt, heldAt)).toBe(LEASE_LINGER_MS);
    expect(lingerLeft(heldAt, heldAt, heldAt + LEASE_LINGER_MS)).toBe(0);
    // Activity 150 ms ago at 900 ms of holding: 50 ms more.
    expect(lingerLeft(heldAt, heldAt + 750, heldAt + 900)).toBe(LEASE_LINGER_MS - 150);
    // However busy, not past the cap.
    expect(lingerLeft(heldAt, heldAt + LEASE_LINGER_MAX_MS, heldAt + LEASE_LINGER_MAX_MS)).toBe(0);
    expect(lingerLeft(heldAt, heldAt + LEASE_LINGER_MAX_MS - 10, heldAt + LEASE_LINGER_MAX_MS - 10)).toBe(10);
  });

  it("does not reuse a lease too close to its expiry, and still releases it", async () => {
    const key = keyFor();
    const released: string[] = [];
    const done = hold(key, lease("c", Date.now() + 4_000), async (l) => void released.push(l.leaseId));
    expect(takeHeld(key, 3_000)).toBeUndefined();
    await done;
    expect(released).toEqual(["c"]);
  });

  it("stops reuse after a flush and releases on schedule", async () => {
    const fn = `t/flush${n++}`;
    const key = keyFor(fn);
    const released: string[] = [];
    const done = hold(key, lease("d"), async (l) => void released.push(l.leaseId));
    flushHeld(`${fn}\u0000`);
    expect(takeHeld(key, 3_000)).toBeUndefined();
    await done;
    expect(released).toEqual(["d"]);
  });

  it("keeps different code versions and concurrency settings apart", () => {
    const base = { functionKey: "t/g", versionKey: "1@r", isolationKey: "", reserved: null, unreservedLimit: 100 };
    const keys = new Set([
      poolKey(base),
      poolKey({ ...base, versionKey: "2@r" }),
      poolKey({ ...base, isolationKey: "customer" }),
      poolKey({ ...base, reserved: 5 }),
      poolKey({ ...base, unreservedLimit: 50 }),
    ]);
    expect(keys.size).toBe(5);
  });
});
