import { describe, expect, it } from "vitest";
import type { MappingRecord } from "../../src/event-sources/mapping";
import { DEFAULT_LANES, LANES_MAX, lanesFor, nextStep, REFUSED_BACKOFF_MS, THROTTLE_BACKOFF_MS, THROTTLED_RESULT } from "../../src/event-sources/sqs-lanes";

const withConcurrency = (maximumConcurrency: number | undefined) => ({ settings: { maximumConcurrency } }) as unknown as MappingRecord;

describe("SQS poller lanes", () => {
  it("runs the mapping's concurrency of lanes, two without ScalingConfig, at most LANES_MAX in one object", () => {
    expect(lanesFor(withConcurrency(undefined))).toBe(DEFAULT_LANES);
    expect(lanesFor(withConcurrency(5))).toBe(5);
    expect(lanesFor(withConcurrency(1000))).toBe(LANES_MAX);
  });

  it("keeps the first lane polling when the queue is empty and ends the others", () => {
    expect(nextStep(true, { kind: "empty" })).toEqual({ kind: "again", pauseMs: 0, grow: false });
    expect(nextStep(false, { kind: "empty" })).toEqual({ kind: "exit" });
  });

  it("adds a lane only after a full batch (a backlog), and polls again at once after any batch", () => {
    expect(nextStep(true, { kind: "done", processed: 10, result: "OK", full: true })).toEqual({ kind: "again", pauseMs: 0, grow: true, result: "OK" });
    expect(nextStep(false, { kind: "done", processed: 3, result: "OK", full: false })).toEqual({ kind: "again", pauseMs: 0, grow: false, result: "OK" });
    expect(nextStep(false, { kind: "done", processed: 1, result: "PROBLEM: Function call failed", full: true })).toMatchObject({ kind: "again", result: "PROBLEM: Function call failed" });
  });

  it("backs off on throttles with one lane and ends the round when the function cannot be invoked", () => {
    expect(nextStep(true, { kind: "throttled" })).toEqual({ kind: "again", pauseMs: THROTTLE_BACKOFF_MS, grow: false, result: THROTTLED_RESULT });
    expect(nextStep(false, { kind: "throttled" })).toEqual({ kind: "exit" });
    expect(nextStep(false, { kind: "refused", reason: "PROBLEM: Function not found." })).toEqual({ kind: "end-round", delayMs: REFUSED_BACKOFF_MS, result: "PROBLEM: Function not found." });
  });
});
