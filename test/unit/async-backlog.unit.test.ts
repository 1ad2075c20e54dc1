import { describe, expect, it } from "vitest";
import {
  BACKLOG_AGE_MS,
  BACKLOG_RECHECK_MAX_S,
  BACKLOG_SLOT_LEASE_MS,
  backlogMode,
  backlogSlots,
  backlogStep,
  freeSlot,
  recheckDelaySeconds,
  releaseSlot,
  UNRESERVED_BACKLOG_SLOTS,
} from "../../src/async/backlog";

const T0 = Date.UTC(2026, 0, 1);

describe("backlogMode", () => {
  it("is on unless the platform says off", () => {
    expect(backlogMode("off")).toBe("off");
    expect(backlogMode("on")).toBe("on");
    expect(backlogMode(undefined)).toBe("on");
    expect(backlogMode("")).toBe("on");
  });
});

describe("backlogStep", () => {
  const at = (role: "shard" | "sideline" | "lowpri" | "dlq" | undefined, ageMs: number, mode: "on" | "off" = "on") =>
    backlogStep({ mode, role, dueAt: T0, now: T0 + ageMs }).action;

  it("runs a new event from a shard or sideline queue at once", () => {
    expect(at("shard", 0)).toBe("run");
    expect(at("shard", BACKLOG_AGE_MS)).toBe("run");
    expect(at("sideline", 500)).toBe("run");
  });

  it("moves an old event from a shard or sideline queue to the low-priority queue", () => {
    expect(at("shard", BACKLOG_AGE_MS + 1)).toBe("demote");
    expect(at("sideline", 60_000)).toBe("demote");
  });

  it("runs what the low-priority queue holds only with a backlog slot, whatever its age", () => {
    expect(at("lowpri", 0)).toBe("runWithSlot");
    expect(at("lowpri", 600_000)).toBe("runWithSlot");
  });

  it("changes nothing when the mode is off (FIFO) or the queue is not an async one", () => {
    expect(at("shard", 600_000, "off")).toBe("run");
    expect(at("lowpri", 600_000, "off")).toBe("run");
    expect(at(undefined, 600_000)).toBe("run");
  });
});

describe("backlogSlots", () => {
  it("leaves about half of a reserved concurrency to new events, at least one slot for the backlog", () => {
    expect(backlogSlots(5)).toBe(2);
    expect(backlogSlots(10)).toBe(5);
    expect(backlogSlots(2)).toBe(1);
    expect(backlogSlots(1)).toBe(1);
  });

  it("gives a function without reserved concurrency a fixed number", () => {
    expect(backlogSlots(null)).toBe(UNRESERVED_BACKLOG_SLOTS);
  });
});

describe("recheckDelaySeconds", () => {
  it("doubles from 1 s and stops at the cap", () => {
    expect([0, 1, 2, 3, 4, 50].map(recheckDelaySeconds)).toEqual([1, 2, 4, 8, BACKLOG_RECHECK_MAX_S, BACKLOG_RECHECK_MAX_S]);
    expect(recheckDelaySeconds(-3)).toBe(1);
  });
});

describe("backlog slots", () => {
  it("grants up to the limit, then refuses until one is given back", () => {
    let leases: number[] = [];
    for (let i = 0; i < 2; i++) {
      const r = freeSlot(leases, 2, T0);
      expect(r.granted).toBe(true);
      leases = r.leases;
    }
    const refused = freeSlot(leases, 2, T0);
    expect(refused.granted).toBe(false);
    expect(refused.leases).toHaveLength(2);
    leases = releaseSlot(leases, T0 + 10);
    expect(leases).toHaveLength(1);
    expect(freeSlot(leases, 2, T0 + 10).granted).toBe(true);
  });

  it("frees a slot whose holder never reported once its lease runs out", () => {
    const { leases } = freeSlot([], 1, T0);
    expect(freeSlot(leases, 1, T0 + BACKLOG_SLOT_LEASE_MS - 1).granted).toBe(false);
    const later = freeSlot(leases, 1, T0 + BACKLOG_SLOT_LEASE_MS + 1);
    expect(later.granted).toBe(true);
    expect(later.leases).toHaveLength(1);
  });

  it("giving back with nothing held stays empty", () => {
    expect(releaseSlot([], T0)).toEqual([]);
  });
});
