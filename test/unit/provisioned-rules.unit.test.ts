import { describe, expect, it } from "vitest";
import { splitByWeight } from "../../src/lambda/alias-routing";
import { initFailureReason, provisionedLimitError, provisionedStatus } from "../../src/lambda/provisioned-concurrency";
import type { Environment } from "../../src/invoke/partition-rules";
import { ENV_IDLE_MS, expiredIdle, pickIdle } from "../../src/invoke/partition-rules";
import { allocation, pickProvisioned, reconcile } from "../../src/invoke/provisioned-rules";

const env = (id: string, extra: Partial<Environment> = {}): Environment => ({
  id,
  versionKey: "1@r",
  isolationKey: "",
  busy: false,
  lastUsedAt: 1_000,
  ...extra,
});
const provisioned = (id: string, extra: Partial<Environment> = {}) => env(id, { provisioned: "live", ready: true, ...extra });

describe("provisionedStatus (the config's state machine)", () => {
  it("is IN_PROGRESS until every requested environment is initialised, then READY", () => {
    expect(provisionedStatus(5, 0, null)).toEqual({ Status: "IN_PROGRESS" });
    expect(provisionedStatus(5, 4, null)).toEqual({ Status: "IN_PROGRESS" });
    expect(provisionedStatus(5, 5, null)).toEqual({ Status: "READY" });
  });

  it("is FAILED with the reason once an init failed, whatever is allocated", () => {
    const reason = initFailureReason("Error", "boom");
    expect(reason).toBe("FUNCTION_ERROR_INIT_FAILURE: Error: boom");
    expect(provisionedStatus(5, 5, reason)).toEqual({ Status: "FAILED", StatusReason: reason });
    expect(provisionedStatus(5, 0, reason)).toEqual({ Status: "FAILED", StatusReason: reason });
  });
});

describe("provisionedLimitError", () => {
  const base = { requested: 10, otherOfFunction: 0, reserved: null, tenantLimit: 1000, reservedTotal: 0, otherUnreservedProvisioned: 0, minimumUnreserved: 100 };

  it("counts every config of a reserved function against its reservation", () => {
    expect(provisionedLimitError({ ...base, reserved: 10 })).toBeNull();
    expect(provisionedLimitError({ ...base, reserved: 10, otherOfFunction: 1 })).toBe(
      "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function",
    );
  });

  it("keeps the account's unreserved minimum for unreserved functions", () => {
    expect(provisionedLimitError({ ...base, requested: 900 })).toBeNull();
    expect(provisionedLimitError({ ...base, requested: 901 })).toBe(
      "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].",
    );
    expect(provisionedLimitError({ ...base, requested: 500, reservedTotal: 300, otherUnreservedProvisioned: 101 })).toBe(
      "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].",
    );
    expect(provisionedLimitError({ ...base, requested: 1001 })).toBe("Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [1000].");
  });
});

describe("splitByWeight (weighted aliases)", () => {
  it("splits by weight, adding up to the total", () => {
    expect(splitByWeight(10, "1", { "2": 0.3 })).toEqual([
      { version: "1", count: 7 },
      { version: "2", count: 3 },
    ]);
    expect(splitByWeight(5, "1", { "2": 0.5 })).toEqual([
      { version: "1", count: 3 },
      { version: "2", count: 2 },
    ]);
    expect(splitByWeight(7, "1", null)).toEqual([{ version: "1", count: 7 }]);
  });

  it("leaves out a version whose share rounds to nothing", () => {
    expect(splitByWeight(1, "1", { "2": 0.1 })).toEqual([{ version: "1", count: 1 }]);
    expect(splitByWeight(3, "1", { "2": 0.9 })).toEqual([{ version: "2", count: 3 }]);
  });
});

describe("reconcile", () => {
  it("creates what a share lacks and retires what is no longer wanted", () => {
    const existing = [provisioned("a"), provisioned("b", { versionKey: "2@r" })];
    const plan = reconcile(existing, [{ versionKey: "1@r", count: 3 }]);
    expect(plan.create).toEqual(["1@r", "1@r"]);
    expect(plan.retire.map((e) => e.id)).toEqual(["b"]);
  });

  it("retires surplus unready environments first and busy ones last", () => {
    const existing = [provisioned("busy", { busy: true }), provisioned("ready"), provisioned("cold", { ready: false })];
    expect(reconcile(existing, [{ versionKey: "1@r", count: 2 }]).retire.map((e) => e.id)).toEqual(["cold"]);
    expect(reconcile(existing, [{ versionKey: "1@r", count: 1 }]).retire.map((e) => e.id)).toEqual(["cold", "ready"]);
    expect(reconcile(existing, [{ versionKey: "1@r", count: 3 }])).toEqual({ create: [], retire: [] });
  });
});

describe("routing: provisioned environments first", () => {
  it("picks an idle, initialised provisioned environment of the same code", () => {
    const envs = [provisioned("a", { lastUsedAt: 5 }), provisioned("b", { lastUsedAt: 9 }), provisioned("c", { busy: true }), provisioned("d", { ready: false })];
    expect(pickProvisioned(envs, "1@r")?.id).toBe("b");
    expect(pickProvisioned(envs, "2@r")).toBeUndefined();
  });

  it("spills over (nothing to pick) when every provisioned environment is busy or not ready", () => {
    expect(pickProvisioned([provisioned("a", { busy: true }), provisioned("b", { ready: false }), env("on-demand")], "1@r")).toBeUndefined();
  });

  it("never hands a provisioned environment out as an on-demand one, nor lets it idle out", () => {
    const envs = [provisioned("p", { lastUsedAt: 0 }), env("o", { lastUsedAt: 0 })];
    expect(pickIdle(envs, "1@r", "", 10)?.id).toBe("o");
    expect(expiredIdle(envs, ENV_IDLE_MS + 1).map((e) => e.id)).toEqual(["o"]);
  });

  it("reports allocated (initialised) and available (initialised and idle) per config", () => {
    const envs = [provisioned("a"), provisioned("b", { busy: true }), provisioned("c", { ready: false }), provisioned("x", { provisioned: "other" })];
    expect(allocation(envs, "live")).toEqual({ allocated: 2, available: 1 });
  });
});
