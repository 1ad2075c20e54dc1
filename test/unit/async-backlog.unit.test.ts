import { describe, expect, it } from "vitest";
import { BACKLOG_AGE_MS, BACKLOG_RECHECK_MAX_S, backlogMode, backlogStep, recheckDelaySeconds } from "../../src/async/backlog";

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

  it("runs what the low-priority queue holds only on idle concurrency, whatever its age", () => {
    expect(at("lowpri", 0)).toBe("runOnIdle");
    expect(at("lowpri", 600_000)).toBe("runOnIdle");
  });

  it("changes nothing when the mode is off (FIFO) or the queue is not an async one", () => {
    expect(at("shard", 600_000, "off")).toBe("run");
    expect(at("lowpri", 600_000, "off")).toBe("run");
    expect(at(undefined, 600_000)).toBe("run");
  });
});

describe("recheckDelaySeconds", () => {
  it("doubles from 1 s and stops at the cap", () => {
    expect([0, 1, 2, 3, 4, 50].map(recheckDelaySeconds)).toEqual([1, 2, 4, 8, BACKLOG_RECHECK_MAX_S, BACKLOG_RECHECK_MAX_S]);
    expect(recheckDelaySeconds(-3)).toBe(1);
  });
});
