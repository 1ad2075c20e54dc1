import { describe, expect, it } from "vitest";
import { applyStreamSettings } from "../../src/event-sources/stream-settings";
import type { OpenWindow } from "../../src/event-sources/tumbling-window";
import { thrownLambdaError } from "../helpers/errors";
import {
  afterBatch,
  afterFinal,
  isoSeconds,
  openWindow,
  responseState,
  sameWindowCount,
  WINDOW_STATE_MAX_BYTES,
  windowEnded,
  windowEvent,
  windowOf,
} from "../../src/event-sources/tumbling-window";

// Tumbling windows of stream mappings (src/event-sources/tumbling-window.ts):
// window assignment by arrival time, when the final invocation is due, the
// event's fields, the response's state and its 1 MB limit, and the settings.

const T = Date.UTC(2020, 11, 9, 7, 4, 0); // 2020-12-09T07:04:00Z, the guide's example window start (120 s)
const CTX = { shardId: "shardId-000000000006", streamArn: "arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream" };
const ACCOUNT = "123456789012";

function lambdaError(fn: () => unknown): { type: string; message: string } {
  const { type, message } = thrownLambdaError(fn);
  return { type, message };
}

describe("window assignment", () => {
  it("aligns windows to multiples of their length since the epoch, by arrival time", () => {
    expect(windowOf(T, 120)).toEqual({ startMs: T, endMs: T + 120_000 });
    expect(windowOf(T + 119_999, 120)).toEqual({ startMs: T, endMs: T + 120_000 });
    expect(windowOf(T + 120_000, 120)).toEqual({ startMs: T + 120_000, endMs: T + 240_000 });
    expect(windowOf(T + 1_500, 1)).toEqual({ startMs: T + 1_000, endMs: T + 2_000 });
    expect(isoSeconds(windowOf(T + 5, 120).startMs)).toBe("2020-12-09T07:04:00Z");
    expect(isoSeconds(windowOf(T + 5, 120).endMs)).toBe("2020-12-09T07:06:00Z");
  });

  it("keeps a batch within the window of its first record", () => {
    expect(sameWindowCount([], 60)).toBe(0);
    expect(sameWindowCount([T, T + 10, T + 59_999], 60)).toBe(3);
    expect(sameWindowCount([T, T + 10, T + 60_000, T + 60_001], 60)).toBe(2);
    expect(sameWindowCount([T + 59_999, T + 60_000], 60)).toBe(1);
  });
});

describe("the final invocation decision", () => {
  const open = openWindow(T + 1, 60);

  it("is due once a record of a later window is next", () => {
    expect(windowEnded(open, T + 59_999, T + 30_000)).toBe(false);
    expect(windowEnded(open, T + 60_000, T + 30_000)).toBe(true);
  });

  it("is due when caught up after the window's end, not before", () => {
    expect(windowEnded(open, undefined, T + 59_999)).toBe(false);
    expect(windowEnded(open, undefined, T + 60_000)).toBe(true);
  });

  it("a record of the window still unread keeps it open whatever the time", () => {
    expect(windowEnded(open, T + 59_000, T + 600_000)).toBe(false);
  });
});

describe("the window event", () => {
  it("has the guide's KinesisTimeWindowEvent fields after Records", () => {
    const open: OpenWindow = { ...openWindow(T, 120), state: '{"1":282,"2":715}', invocations: 2 };
    const event = JSON.parse(windowEvent("[]", open, CTX, false)) as Record<string, unknown>;
    expect(Object.keys(event)).toEqual(["Records", "window", "state", "shardId", "eventSourceARN", "isFinalInvokeForWindow", "isWindowTerminatedEarly"]);
    expect(event).toEqual({
      Records: [],
      window: { start: "2020-12-09T07:04:00Z", end: "2020-12-09T07:06:00Z" },
      state: { "1": 282, "2": 715 },
      shardId: CTX.shardId,
      eventSourceARN: CTX.streamArn,
      isFinalInvokeForWindow: false,
      isWindowTerminatedEarly: false,
    });
    expect(JSON.parse(windowEvent("[]", open, CTX, true))).toMatchObject({ isFinalInvokeForWindow: true, isWindowTerminatedEarly: false });
    expect(JSON.parse(windowEvent("[]", { ...open, closing: "early" }, CTX, true))).toMatchObject({ isFinalInvokeForWindow: true, isWindowTerminatedEarly: true });
  });
});

describe("the response's state", () => {
  it("is required: a response without a state object is a failed invocation", () => {
    expect(responseState('{"state":{"sum":3},"batchItemFailures":[]}')).toBe('{"sum":3}');
    expect(responseState('{"state":{}}')).toBe("{}");
    expect(responseState("{}")).toBeNull();
    expect(responseState("")).toBeNull();
    expect(responseState("null")).toBeNull();
    expect(responseState('{"state":null}')).toBeNull();
    expect(responseState('{"state":[1]}')).toBeNull();
    expect(responseState('{"state":"x"}')).toBeNull();
    expect(responseState("not json")).toBeNull();
  });

  it("is kept for the next invocation up to 1 MB", () => {
    const open = openWindow(T, 60);
    const state = JSON.stringify({ s: "x".repeat(WINDOW_STATE_MAX_BYTES - 8) }); // exactly 1 MB
    expect(state.length).toBe(WINDOW_STATE_MAX_BYTES);
    expect(afterBatch(open, state)).toEqual({ kind: "kept", open: { ...open, state, invocations: 1 } });
  });

  it("over 1 MB terminates the window early, its final invocation getting the last state that fitted", () => {
    const open: OpenWindow = { ...openWindow(T, 60), state: '{"sum":1}', invocations: 1 };
    const big = JSON.stringify({ s: "x".repeat(WINDOW_STATE_MAX_BYTES) });
    const outcome = afterBatch(open, big);
    expect(outcome).toEqual({ kind: "terminate-early", open: { ...open, closing: "early" } });
    if (outcome.kind !== "terminate-early") return;
    // Then the same window goes on with a fresh state.
    expect(afterFinal(outcome.open)).toEqual({ startMs: open.startMs, endMs: open.endMs, state: "{}", invocations: 0 });
  });

  it("over 1 MB from a fresh state is an error: the batch fails as any failed invocation", () => {
    const big = JSON.stringify({ s: "é".repeat(WINDOW_STATE_MAX_BYTES / 2) }); // counted in UTF-8 bytes, not characters
    expect(afterBatch(openWindow(T, 60), big)).toEqual({ kind: "too-large", bytes: WINDOW_STATE_MAX_BYTES + 8 });
  });

  it("a final invocation at the window's end drops the window", () => {
    expect(afterFinal({ ...openWindow(T, 60), state: '{"a":1}', invocations: 3, closing: "end" })).toBeNull();
  });
});

describe("tumbling window settings", () => {
  it("takes 1–900 s and keeps it on update", () => {
    const base = applyStreamSettings({ StartingPosition: "TRIM_HORIZON", TumblingWindowInSeconds: 120 }, undefined, ACCOUNT, 0);
    expect(base.stream?.tumblingWindowInSeconds).toBe(120);
    expect(applyStreamSettings({ BatchSize: 5 }, base, ACCOUNT, 0).stream?.tumblingWindowInSeconds).toBe(120);
    expect(applyStreamSettings({ TumblingWindowInSeconds: 0 }, base, ACCOUNT, 0).stream?.tumblingWindowInSeconds).toBe(0);
  });

  it("refuses a tumbling window with concurrent batches per shard, whichever comes first", () => {
    const expected = { type: "InvalidParameterValueException", message: "TumblingWindowInSeconds is not supported with a ParallelizationFactor greater than 1." };
    expect(lambdaError(() => applyStreamSettings({ StartingPosition: "LATEST", TumblingWindowInSeconds: 60, ParallelizationFactor: 2 }, undefined, ACCOUNT, 0))).toEqual(expected);
    const windowed = applyStreamSettings({ StartingPosition: "LATEST", TumblingWindowInSeconds: 60 }, undefined, ACCOUNT, 0);
    expect(lambdaError(() => applyStreamSettings({ ParallelizationFactor: 3 }, windowed, ACCOUNT, 0))).toEqual(expected);
    const parallel = applyStreamSettings({ StartingPosition: "LATEST", ParallelizationFactor: 3 }, undefined, ACCOUNT, 0);
    expect(lambdaError(() => applyStreamSettings({ TumblingWindowInSeconds: 60 }, parallel, ACCOUNT, 0))).toEqual(expected);
  });
});

describe("on-failure destinations cellfn cannot deliver to", () => {
  it.each([
    ["arn:aws:sns:us-east-1:123456789012:alerts", "The provided execution role does not have permissions to call Publish on SNS"],
    ["arn:aws:s3:::failed-batches", "The function execution role does not have permissions to call PutObject on S3"],
  ])("refuses %s with Lambda's answer", (arn, message) => {
    expect(lambdaError(() => applyStreamSettings({ StartingPosition: "LATEST", DestinationConfig: { OnFailure: { Destination: arn } } }, undefined, ACCOUNT, 0))).toEqual({
      type: "InvalidParameterValueException",
      message,
    });
  });
});
