import { describe, expect, it } from "vitest";
import type { Environment } from "../../src/invoke/partition-rules";
import { admitReserved, ENV_IDLE_MS, environmentId, expiredIdle, pickIdle } from "../../src/invoke/partition-rules";

const env = (id: string, extra: Partial<Environment> = {}): Environment => ({
  id,
  versionKey: "1@r",
  isolationKey: "",
  busy: false,
  lastUsedAt: 1_000,
  ...extra,
});

describe("pickIdle", () => {
  it("takes the most recently used idle environment of the same code and isolation key", () => {
    const envs = [env("a", { lastUsedAt: 100 }), env("b", { lastUsedAt: 900 }), env("c", { lastUsedAt: 950, busy: true })];
    expect(pickIdle(envs, "1@r", "", 1_000)?.id).toBe("b");
  });

  it("never crosses code versions or isolation keys", () => {
    const envs = [env("a", { versionKey: "2@r" }), env("b", { isolationKey: "tenant-x" })];
    expect(pickIdle(envs, "1@r", "", 1_000)).toBeUndefined();
    expect(pickIdle(envs, "1@r", "tenant-x", 1_000)?.id).toBe("b");
    expect(pickIdle(envs, "1@r", "tenant-y", 1_000)).toBeUndefined();
  });

  it("skips environments idle past ENV_IDLE_MS", () => {
    expect(pickIdle([env("a", { lastUsedAt: 0 })], "1@r", "", ENV_IDLE_MS + 1)).toBeUndefined();
    expect(expiredIdle([env("a", { lastUsedAt: 0 }), env("b", { lastUsedAt: 0, busy: true })], ENV_IDLE_MS + 1).map((e) => e.id)).toEqual(["a"]);
  });
});

describe("admitReserved", () => {
  it("admits below the reservation and refuses at it", () => {
    expect(admitReserved(4, 5)).toBeNull();
    expect(admitReserved(5, 5)).toBe("ReservedFunctionConcurrentInvocationLimitExceeded");
    expect(admitReserved(0, 0)).toBe("ReservedFunctionConcurrentInvocationLimitExceeded");
  });
});

describe("environmentId", () => {
  it("is unique per isolation key and sequence and encodes the tenant id", () => {
    expect(environmentId("t/f", "1@r", "", 1)).toBe("t/f/1@r/-/1");
    expect(environmentId("t/f", "1@r", "a b/c", 2)).toBe("t/f/1@r/a%20b%2Fc/2");
  });
});
