import { describe, expect, it } from "vitest";
import type { MappingRecord } from "../../src/event-sources/mapping";
import {
  DEFAULT_LANES,
  LANES_MAX,
  LONG_POLL_S,
  beforeBatch,
  lanesFor,
  nextStep,
  REFUSED_BACKOFF_MS,
  startsStandby,
  THROTTLE_BACKOFF_MS,
} from "../../src/event-sources/sqs-lanes";

const withConcurrency = (maximumConcurrency: number | undefined) => ({ settings: { maximumConcurrency } }) as unknown as MappingRecord;
const alone = { running: 0, polling: 0 };

describe("SQS poller lanes", () => {
  it("runs the mapping's concurrency of lanes, two without ScalingConfig, at most LANES_MAX in one object", () => {
    expect(lanesFor(withConcurrency(undefined))).toBe(DEFAULT_LANES);
    expect(lanesFor(withConcurrency(5))).toBe(5);
    expect(lanesFor(withConcurrency(1000))).toBe(LANES_MAX);
  });

  it("starts a lane to wait on the queue when a lane has messages in hand and no other lane waits, within the concurrency", () => {
    // A lone lane took a message (even one, below BatchSize): another waits on the queue while it invokes.
    expect(startsStandby(alone, 5)).toBe(true);
    // Three others invoking, none waiting: a fifth lane may start; with four others the concurrency is used up.
    expect(startsStandby({ running: 3, polling: 0 }, 5)).toBe(true);
    expect(startsStandby({ running: 4, polling: 0 }, 5)).toBe(false);
    // One already waits on the queue: no second one.
    expect(startsStandby({ running: 2, polling: 1 }, 5)).toBe(false);
    // MaximumConcurrency 1 (LANES_MAX and lanesFor never give less): one lane, no standby, one invocation at a time.
    expect(startsStandby(alone, 1)).toBe(false);
  });

  it("long-polls in the one lane waiting on the queue, only looks in the others, and never waits past the round", () => {
    expect(beforeBatch(alone, 5, 60_000, 0)).toEqual({ kind: "poll", waitSeconds: LONG_POLL_S });
    expect(beforeBatch({ running: 3, polling: 0 }, 5, 60_000, 0)).toEqual({ kind: "poll", waitSeconds: LONG_POLL_S });
    expect(beforeBatch({ running: 3, polling: 1 }, 5, 60_000, 0)).toEqual({ kind: "poll", waitSeconds: 0 });
    expect(beforeBatch(alone, 5, 2_500, 0)).toEqual({ kind: "poll", waitSeconds: 2 });
    expect(beforeBatch(alone, 5, 400, 0)).toEqual({ kind: "poll", waitSeconds: 0 });
    expect(beforeBatch(alone, 5, -5, 0)).toEqual({ kind: "poll", waitSeconds: 0 });
  });

  it("ends the lanes beyond a lowered concurrency, never the last one", () => {
    expect(beforeBatch({ running: 4, polling: 0 }, 5, 60_000, 0).kind).toBe("poll");
    expect(beforeBatch({ running: 5, polling: 0 }, 5, 60_000, 0)).toEqual({ kind: "leave" });
    expect(beforeBatch({ running: 4, polling: 1 }, 2, 60_000, 0)).toEqual({ kind: "leave" });
    expect(beforeBatch(alone, 1, 60_000, 0).kind).toBe("poll");
  });

  it("keeps one lane through a throttle's backoff, which receives nothing until it is over", () => {
    expect(beforeBatch({ running: 2, polling: 1 }, 5, 60_000, 700)).toEqual({ kind: "leave" });
    expect(beforeBatch({ running: 1, polling: 0 }, 5, 60_000, 700)).toEqual({ kind: "leave" });
    expect(beforeBatch(alone, 5, 60_000, 700)).toEqual({ kind: "pause", ms: 700 });
    expect(beforeBatch(alone, 5, 60_000, 0).kind).toBe("poll");
  });

  it("keeps one lane waiting on an empty queue and ends the others", () => {
    // Nobody else waits (the others invoke, or there are none): this lane keeps waiting.
    expect(nextStep(alone, { kind: "empty" })).toEqual({ kind: "again", pauseMs: 0 });
    expect(nextStep({ running: 3, polling: 0 }, { kind: "empty" })).toEqual({ kind: "again", pauseMs: 0 });
    // Another lane waits on the queue: this one ends.
    expect(nextStep({ running: 1, polling: 1 }, { kind: "empty" })).toEqual({ kind: "exit" });
  });

  it("polls again at once after any batch, recording its result", () => {
    expect(nextStep(alone, { kind: "done", processed: 10, result: "OK" })).toEqual({ kind: "again", pauseMs: 0, result: "OK" });
    expect(nextStep({ running: 2, polling: 1 }, { kind: "done", processed: 1, result: "PROBLEM: Function call failed" })).toEqual({
      kind: "again",
      pauseMs: 0,
      result: "PROBLEM: Function call failed",
    });
  });

  it("backs off on throttles with one lane and ends the round when the function cannot be invoked", () => {
    expect(nextStep(alone, { kind: "throttled" })).toEqual({ kind: "again", pauseMs: THROTTLE_BACKOFF_MS });
    expect(nextStep({ running: 1, polling: 0 }, { kind: "throttled" })).toEqual({ kind: "exit" });
    expect(nextStep({ running: 1, polling: 1 }, { kind: "throttled" })).toEqual({ kind: "exit" });
    expect(nextStep(alone, { kind: "refused", reason: "PROBLEM: Function not found." })).toEqual({ kind: "end-round", delayMs: REFUSED_BACKOFF_MS, result: "PROBLEM: Function not found." });
  });
});
