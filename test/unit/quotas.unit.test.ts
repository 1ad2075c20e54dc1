import { describe, expect, it } from "vitest";
import { codeStorageAllows, DEFAULT_CODE_STORAGE_BYTES, DEFAULT_SHARD_LIMIT } from "../../src/lambda/quotas";
import { cpuBoundLine } from "../../src/runtime/log-format";

describe("quotas", () => {
  it("defaults to AWS's: 75 GB of code and layers, 500 Kinesis shards", () => {
    expect(DEFAULT_CODE_STORAGE_BYTES).toBe(75 * 1024 ** 3);
    expect(DEFAULT_SHARD_LIMIT).toBe(500);
  });

  it("code storage allows up to the limit, refuses past it, and always allows a write that frees space", () => {
    expect(codeStorageAllows(900, 100, 1000)).toBe(true);
    expect(codeStorageAllows(900, 101, 1000)).toBe(false);
    expect(codeStorageAllows(5000, -200, 1000)).toBe(true);
    expect(codeStorageAllows(5000, 0, 1000)).toBe(true);
    expect(codeStorageAllows(0, 1, 0)).toBe(false);
  });
});

describe("CPU-bound handler line", () => {
  it("says in the function's log that the handler could not be stopped locally and that others waited", () => {
    const line = cpuBoundLine(new Date("2026-01-01T00:00:00Z"), "req-1", 1, 2512.4);
    expect(line).toBe(
      "2026-01-01T00:00:00.000Z req-1 cellfn: the handler ran 2512 ms without yielding, past its 1 s timeout. " +
        "Local workerd cannot stop code that never yields: it ran to its end, and every other invocation in this process (all tenants) waited meanwhile. " +
        'On Cloudflare the CPU limit stops it at the timeout. See README "CPU-bound handlers".',
    );
  });
});
