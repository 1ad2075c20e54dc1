import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { LeaseRequest } from "../../src/invoke/assignment-partition";
import { BACKLOG_WAIT_MS, LEASE_GRACE_MS } from "../../src/invoke/partition-rules";

let counter = 0;
function partitionFor(fn: string) {
  return env.ASSIGNMENT.get(env.ASSIGNMENT.idFromName(fn));
}

function request(tenantId: string, fn: string, extra: Partial<LeaseRequest> = {}): LeaseRequest {
  return {
    tenantId,
    functionKey: `${tenantId}/${fn}`,
    versionKey: "$LATEST@rev-1",
    isolationKey: "",
    reservedConcurrency: null,
    unreservedLimit: 1000,
    timeoutMs: 3000,
    ...extra,
  };
}

function fresh() {
  const tenantId = `t-partition-${counter++}-${Date.now()}`;
  return { tenantId, fn: `${tenantId}/f`, partition: partitionFor(`${tenantId}/f`) };
}

describe("AssignmentPartition", () => {
  it("grants exactly the reserved concurrency under parallel requests", async () => {
    const { tenantId, partition } = fresh();
    const grants = await Promise.all(
      Array.from({ length: 20 }, () => partition.acquire(request(tenantId, "f", { reservedConcurrency: 5 }))),
    );
    const granted = grants.filter((g) => g.granted);
    expect(granted).toHaveLength(5);
    for (const g of grants.filter((x) => !x.granted)) {
      expect(g).toEqual({ granted: false, reason: "ReservedFunctionConcurrentInvocationLimitExceeded" });
    }
    expect(new Set(granted.map((g) => (g.granted ? g.environmentId : ""))).size).toBe(5);
    expect((await partition.snapshot()).inFlight).toBe(5);
  });

  it("grants a backlog lease only from concurrency new events leave idle (their recent peak and one slot more)", async () => {
    const { tenantId, partition } = fresh();
    const newLease = () => partition.acquire(request(tenantId, "f", { reservedConcurrency: 4 }));
    const backlogLease = () => partition.acquire(request(tenantId, "f", { reservedConcurrency: 4, asyncLane: "old" }));
    const leaseId = (g: Awaited<ReturnType<typeof newLease>>) => (g.granted ? g.leaseId : "");
    // New events peaked at 2 in flight, then finished: 3 of the 4 slots stay theirs for a while.
    const peak = [await newLease(), await newLease()];
    for (const g of peak) await partition.release(leaseId(g), tenantId, true);
    const first = await backlogLease();
    expect(first.granted).toBe(true);
    expect(await backlogLease()).toEqual({ granted: false, reason: "BacklogDeferred" });
    // The deferral is the backlog's alone: new events still get the idle slots, up to the reservation.
    const newOnes = await Promise.all([newLease(), newLease(), newLease(), newLease()]);
    expect(newOnes.filter((g) => g.granted)).toHaveLength(3);
    expect(newOnes.find((g) => !g.granted)).toEqual({ granted: false, reason: "ReservedFunctionConcurrentInvocationLimitExceeded" });
    // The backlog keeps one slot as its floor, so it drains: once the old event is done, the next one takes it.
    await partition.release(leaseId(first), tenantId, true);
    expect((await partition.snapshot()).inFlight).toBe(3);
    expect((await backlogLease()).granted).toBe(true);
    // Every slot busy: nothing more, backlog (deferred after waiting BACKLOG_WAIT_MS for a lease to end) or new.
    const asked = Date.now();
    expect(await backlogLease()).toEqual({ granted: false, reason: "BacklogDeferred" });
    expect(Date.now() - asked).toBeGreaterThanOrEqual(BACKLOG_WAIT_MS - 50);
    expect(await newLease()).toEqual({ granted: false, reason: "ReservedFunctionConcurrentInvocationLimitExceeded" });
  });

  it("hands the next freed slot to a waiting new async event first, then to a waiting old one, instead of refusing them", async () => {
    const { tenantId, partition } = fresh();
    const req = (extra: Partial<LeaseRequest> = {}) => request(tenantId, "f", { reservedConcurrency: 2, ...extra });
    const leaseId = (g: Awaited<ReturnType<typeof partition.acquire>>) => (g.granted ? g.leaseId : "");
    expect((await partition.acquire(req())).granted).toBe(true);
    const old = await partition.acquire(req({ asyncLane: "old" }));
    expect(old.granted).toBe(true);
    // Anything but a new async event is throttled at once, as on AWS.
    expect(await partition.acquire(req())).toEqual({ granted: false, reason: "ReservedFunctionConcurrentInvocationLimitExceeded" });
    // A new async event waits for the old event's run to end, and gets its slot.
    const waiting = partition.acquire(req({ asyncLane: "new" }));
    await partition.release(leaseId(old), tenantId, true);
    const handed = await waiting;
    expect(handed.granted).toBe(true);
    expect(handed.granted && handed.cold).toBe(false);
    // A slot a new event's run frees is handed over the same way: the old event asking meanwhile waits behind the new one.
    const next = partition.acquire(req({ asyncLane: "new" }));
    const oldMeanwhile = partition.acquire(req({ asyncLane: "old" }));
    await partition.release(leaseId(handed), tenantId, true);
    const nextGrant = await next;
    expect(nextGrant.granted).toBe(true);
    // Both slots are new events' now; when one ends (the new events' peak leaves the backlog its one-slot floor), the old event gets it.
    await partition.release(leaseId(nextGrant), tenantId, true);
    expect((await oldMeanwhile).granted).toBe(true);
    expect((await partition.snapshot()).inFlight).toBe(2);
  });

  it("counts leases started under a reservation that was then removed against the tenant's pool", async () => {
    const { tenantId, partition } = fresh();
    const reserved = await Promise.all([1, 2].map(() => partition.acquire(request(tenantId, "f", { reservedConcurrency: 2 }))));
    expect(reserved.every((g) => g.granted)).toBe(true);
    // The reservation is deleted while both still run: with an unreserved limit of 3, only 1 more may start.
    const pooled = await Promise.all([1, 2, 3].map(() => partition.acquire(request(tenantId, "f", { unreservedLimit: 3 }))));
    expect(pooled.filter((g) => g.granted)).toHaveLength(1);
    expect(pooled.filter((g) => !g.granted)).toEqual([
      { granted: false, reason: "ConcurrentInvocationLimitExceeded" },
      { granted: false, reason: "ConcurrentInvocationLimitExceeded" },
    ]);
  });

  it("throttles everything with reserved concurrency 0", async () => {
    const { tenantId, partition } = fresh();
    expect(await partition.acquire(request(tenantId, "f", { reservedConcurrency: 0 }))).toEqual({
      granted: false,
      reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
    });
  });

  it("reuses a released environment warm and never reuses one released as not reusable", async () => {
    const { tenantId, partition } = fresh();
    const first = await partition.acquire(request(tenantId, "f"));
    if (!first.granted) throw new Error("not granted");
    expect(first.cold).toBe(true);
    await partition.release(first.leaseId, tenantId, true);

    const second = await partition.acquire(request(tenantId, "f"));
    if (!second.granted) throw new Error("not granted");
    expect(second).toMatchObject({ cold: false, environmentId: first.environmentId });
    await partition.release(second.leaseId, tenantId, false);

    const third = await partition.acquire(request(tenantId, "f"));
    if (!third.granted) throw new Error("not granted");
    expect(third.cold).toBe(true);
    expect(third.environmentId).not.toBe(first.environmentId);
  });

  it("keeps environments apart by code version and by isolation tenant id", async () => {
    const { tenantId, partition } = fresh();
    const a = await partition.acquire(request(tenantId, "f", { isolationKey: "customer-a" }));
    if (!a.granted) throw new Error("not granted");
    await partition.release(a.leaseId, tenantId, true);

    const b = await partition.acquire(request(tenantId, "f", { isolationKey: "customer-b" }));
    const v2 = await partition.acquire(request(tenantId, "f", { isolationKey: "customer-a", versionKey: "$LATEST@rev-2" }));
    const again = await partition.acquire(request(tenantId, "f", { isolationKey: "customer-a" }));
    expect(b).toMatchObject({ granted: true, cold: true });
    expect(v2).toMatchObject({ granted: true, cold: true });
    expect(again).toMatchObject({ granted: true, cold: false, environmentId: a.environmentId });
    if (b.granted) expect(b.environmentId).not.toBe(a.environmentId);
  });

  it("shares the tenant's unreserved pool across functions", async () => {
    const tenantId = `t-pool-${counter++}-${Date.now()}`;
    const f = partitionFor(`${tenantId}/f`);
    const g = partitionFor(`${tenantId}/g`);
    const fromF = await Promise.all(Array.from({ length: 3 }, () => f.acquire(request(tenantId, "f", { unreservedLimit: 4 }))));
    const fromG = await Promise.all(Array.from({ length: 3 }, () => g.acquire(request(tenantId, "g", { unreservedLimit: 4 }))));
    const all = [...fromF, ...fromG];
    expect(all.filter((x) => x.granted)).toHaveLength(4);
    expect(all.filter((x) => !x.granted).every((x) => !x.granted && x.reason === "ConcurrentInvocationLimitExceeded")).toBe(true);

    const held = fromF.find((x) => x.granted);
    if (!held?.granted) throw new Error("expected a grant from f");
    await f.release(held.leaseId, tenantId, true);
    expect(await g.acquire(request(tenantId, "g", { unreservedLimit: 4 }))).toMatchObject({ granted: true });
  });

  it("does not draw reserved functions from the unreserved pool", async () => {
    const tenantId = `t-res-${counter++}-${Date.now()}`;
    const reserved = partitionFor(`${tenantId}/r`);
    const grants = await Promise.all(
      Array.from({ length: 3 }, () => reserved.acquire(request(tenantId, "r", { reservedConcurrency: 3, unreservedLimit: 0 }))),
    );
    expect(grants.every((g) => g.granted)).toBe(true);
    const quota = env.TENANT_QUOTA.get(env.TENANT_QUOTA.idFromName(tenantId));
    expect(await quota.inFlight()).toBe(0);
  });

  it("reclaims a lease whose frontend never came back, with its slot and environment", async () => {
    const { tenantId, partition } = fresh();
    // A lease that is already past timeout + grace, as if its frontend died.
    const lost = await partition.acquire(request(tenantId, "f", { timeoutMs: -LEASE_GRACE_MS - 1 }));
    if (!lost.granted) throw new Error("not granted");
    const snapshot = await partition.snapshot();
    expect(snapshot.inFlight).toBe(0);
    expect(snapshot.environments.map((e) => e.id)).not.toContain(lost.environmentId);
    const quota = env.TENANT_QUOTA.get(env.TENANT_QUOTA.idFromName(tenantId));
    expect(await quota.inFlight()).toBe(0);
    // A late release of the reclaimed lease changes nothing.
    await partition.release(lost.leaseId, tenantId, true);
    expect((await partition.snapshot()).environments.map((e) => e.id)).not.toContain(lost.environmentId);
  });
});
