import { describe, expect, it } from "vitest";
import { LambdaError } from "../../src/errors";
import { compileFilters } from "../../src/event-sources/filter";
import { kinesisRecord, onFailureRecord } from "../../src/event-sources/kinesis-event";
import { applySettings } from "../../src/event-sources/settings";
import { applyStreamSettings } from "../../src/event-sources/stream-settings";
import type { PendingBatch, RoundRecord, StreamRules } from "../../src/event-sources/stream-rules";
import { afterFailure, checkpointOf, laneOf, lowestFailedIndex, planRound, retryDelayMs, roundDone, windowOpen } from "../../src/event-sources/stream-rules";

const RULES: StreamRules = { batchSize: 4, parallelizationFactor: 1, maximumRetryAttempts: -1, maximumRecordAgeInSeconds: -1, bisectBatchOnFunctionError: false };
const NOW = 1_800_000_000_000;
const ACCOUNT = "123456789012";

function lambdaError(fn: () => unknown): { type: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof LambdaError) return { type: error.type, message: error.message };
    throw error;
  }
  throw new Error("expected a LambdaError");
}

const records = (from: number, count: number, key = (i: number) => `k${i}`): RoundRecord[] =>
  Array.from({ length: count }, (_, i) => ({ position: from + i, partitionKey: key(i), eventBytes: 100, matches: true }));
const batch = (from: number, to: number, extra: Partial<PendingBatch> = {}): PendingBatch => ({ from, to, lane: 0, retries: 0, invocations: 0, ...extra });
const failed = (positions: number[], retryFrom = 0, partial = false, arrivalMs = NOW - 1000) => ({
  positions,
  arrivalsMs: positions.map(() => arrivalMs),
  retryFrom,
  partial,
});

describe("planning a round", () => {
  it("takes BatchSize records from the checkpoint into one lane and ends after them", () => {
    const round = planRound(10, records(10, 9), RULES, 6_000_000);
    expect(round).toEqual({ end: 14, lanes: [[batch(10, 14)]] });
    expect(planRound(10, [], RULES, 6_000_000)).toBeNull();
  });

  it("skips records the filters drop without counting them", () => {
    const input = records(1, 8).map((r, i) => ({ ...r, matches: i % 2 === 0 }));
    // Matches at 1,3,5,7: the fifth match would be at 9 (none): all 8 fit.
    expect(planRound(1, input, RULES, 6_000_000)).toEqual({ end: 9, lanes: [[batch(1, 9)]] });
    const none = records(1, 3).map((r) => ({ ...r, matches: false }));
    expect(planRound(1, none, RULES, 6_000_000)).toEqual({ end: 4, lanes: [[]] });
  });

  it("closes a batch before the payload limit, but always takes one record", () => {
    const big = records(0, 3).map((r) => ({ ...r, eventBytes: 400 }));
    expect(planRound(0, big, RULES, 1000)?.end).toBe(2);
    expect(planRound(0, big, RULES, 100)?.end).toBe(1);
  });

  it("deals keys to ParallelizationFactor lanes, each key always to the same lane", () => {
    const rules = { ...RULES, parallelizationFactor: 10, batchSize: 100 };
    const input = records(0, 200, (i) => `key-${i % 20}`);
    const round = planRound(0, input, rules, 6_000_000);
    expect(round?.end).toBe(200);
    const used = round?.lanes.filter((l) => l.length > 0).length ?? 0;
    expect(used).toBeGreaterThan(1);
    for (let i = 0; i < 20; i++) expect(laneOf(`key-${i}`, 10)).toBe(laneOf(`key-${i}`, 10));
    expect(laneOf("anything", 1)).toBe(0);
  });

  it("ends the round where one lane would overfill", () => {
    const rules = { ...RULES, parallelizationFactor: 2, batchSize: 2 };
    const hot = "same-key";
    expect(planRound(0, records(0, 5, () => hot), rules, 6_000_000)?.end).toBe(2);
  });
});

describe("checkpoints", () => {
  it("is the lowest pending position, and the round's end once every lane is done", () => {
    const round = { end: 20, lanes: [[batch(12, 20)], [batch(15, 20, { lane: 1 })], []] };
    expect(checkpointOf(round)).toBe(12);
    expect(roundDone(round)).toBe(false);
    const done = { end: 20, lanes: [[], []] };
    expect(checkpointOf(done)).toBe(20);
    expect(roundDone(done)).toBe(true);
  });

  it("ReportBatchItemFailures retries from the lowest reported sequence number", () => {
    const seqs = ["100", "200", "300", "400"];
    expect(lowestFailedIndex(seqs, ["400", "200"])).toBe(1);
    expect(lowestFailedIndex(seqs, [])).toBeNull();
    // Compared as numbers, not strings: 99 < 100.
    expect(lowestFailedIndex(["99", "100"], ["100", "99"])).toBe(0);
  });
});

describe("after a failure", () => {
  it("retries the whole batch forever by default (-1)", () => {
    let b = batch(0, 4);
    for (let i = 1; i <= 50; i++) {
      const d = afterFailure(b, failed([0, 1, 2, 3]), RULES, NOW);
      if (d.kind !== "retry") throw new Error("expected a retry");
      expect(d.batches).toEqual([batch(0, 4, { retries: i, invocations: i })]);
      b = d.batches[0] ?? b;
    }
  });

  it("discards after MaximumRetryAttempts retries (RetryAttemptsExhausted)", () => {
    const rules = { ...RULES, maximumRetryAttempts: 2 };
    const first = afterFailure(batch(0, 4), failed([0, 1, 2, 3]), rules, NOW);
    expect(first).toEqual({ kind: "retry", batches: [batch(0, 4, { retries: 1, invocations: 1 })] });
    const third = afterFailure(batch(0, 4, { retries: 2, invocations: 2 }), failed([0, 1, 2, 3]), rules, NOW);
    expect(third).toEqual({ kind: "discard", condition: "RetryAttemptsExhausted", batch: batch(0, 4, { retries: 2, invocations: 3 }) });
    const none = afterFailure(batch(0, 4), failed([0, 1, 2, 3]), { ...RULES, maximumRetryAttempts: 0 }, NOW);
    expect(none.kind).toBe("discard");
  });

  it("discards records older than MaximumRecordAgeInSeconds (RecordAgeExceeded)", () => {
    const rules = { ...RULES, maximumRecordAgeInSeconds: 60 };
    expect(afterFailure(batch(0, 2), failed([0, 1], 0, false, NOW - 61_000), rules, NOW)).toMatchObject({ kind: "discard", condition: "RecordAgeExceeded" });
    expect(afterFailure(batch(0, 2), failed([0, 1], 0, false, NOW - 59_000), rules, NOW).kind).toBe("retry");
  });

  it("bisects a failing batch into halves without spending a retry, down to one record", () => {
    const rules = { ...RULES, bisectBatchOnFunctionError: true, maximumRetryAttempts: 0 };
    const d = afterFailure(batch(0, 8), failed([0, 1, 2, 3, 4, 5, 6, 7]), rules, NOW);
    expect(d).toEqual({ kind: "retry", batches: [batch(0, 4, { invocations: 1 }), batch(4, 8, { invocations: 1 })] });
    // Members with gaps (filters, other lanes): split at the middle member.
    const gaps = afterFailure(batch(0, 10), failed([1, 5, 9]), rules, NOW);
    expect(gaps).toEqual({ kind: "retry", batches: [batch(1, 5, { invocations: 1 }), batch(5, 10, { invocations: 1 })] });
    // One record left: the retry rules apply (0 retries: discarded at once).
    expect(afterFailure(batch(3, 4), failed([3]), rules, NOW)).toMatchObject({ kind: "discard", condition: "RetryAttemptsExhausted" });
  });

  it("isolates one bad record of 100 in log2 steps", () => {
    const rules = { ...RULES, bisectBatchOnFunctionError: true, maximumRetryAttempts: 0, batchSize: 100 };
    const bad = 37;
    let queue = [batch(0, 100)];
    const discarded: PendingBatch[] = [];
    let invocations = 0;
    while (queue.length > 0) {
      const [head, ...rest] = queue as [PendingBatch, ...PendingBatch[]];
      invocations++;
      const members = Array.from({ length: head.to - head.from }, (_, i) => head.from + i);
      if (!members.includes(bad)) {
        queue = rest;
        continue;
      }
      const d = afterFailure(head, failed(members), rules, NOW);
      if (d.kind === "discard") discarded.push(d.batch);
      queue = d.kind === "retry" ? [...d.batches, ...rest] : rest;
    }
    // 100 → 50 → 25 → 13 → 6 → 3 → 1: the seventh invocation holding record 37 is the last.
    expect(discarded).toEqual([{ from: bad, to: bad + 1, lane: 0, retries: 0, invocations: 7 }]);
    expect(invocations).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(100)) + 1);
  });

  it("a partial failure keeps the records before the lowest failed one done, and does not bisect", () => {
    const rules = { ...RULES, bisectBatchOnFunctionError: true };
    expect(afterFailure(batch(0, 4), failed([0, 1, 2, 3], 2, true), rules, NOW)).toEqual({ kind: "retry", batches: [batch(2, 4, { retries: 1, invocations: 1 })] });
  });

  it("backs off 100 ms doubling up to 2 s", () => {
    expect([1, 2, 3, 4, 5, 6, 10].map(retryDelayMs)).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
  });

  it("waits for a batching window only while the batch is not full", () => {
    expect(windowOpen(3, 100, 1, NOW - 500, NOW)).toBe(true);
    expect(windowOpen(3, 100, 1, NOW - 1500, NOW)).toBe(false);
    expect(windowOpen(100, 100, 1, NOW, NOW)).toBe(false);
    expect(windowOpen(3, 100, 0, NOW, NOW)).toBe(false);
  });
});

describe("stream settings", () => {
  it("applies Lambda's stream defaults", () => {
    expect(applyStreamSettings({ StartingPosition: "LATEST" }, undefined, ACCOUNT, NOW)).toEqual({
      enabled: true,
      batchSize: 100,
      maximumBatchingWindowInSeconds: 0,
      filters: [],
      reportBatchItemFailures: false,
      stream: {
        startingPosition: "LATEST",
        maximumRetryAttempts: -1,
        maximumRecordAgeInSeconds: -1,
        bisectBatchOnFunctionError: false,
        parallelizationFactor: 1,
        tumblingWindowInSeconds: 0,
      },
    });
  });

  it("refuses what Lambda refuses", () => {
    expect(lambdaError(() => applyStreamSettings({}, undefined, ACCOUNT, NOW))).toEqual({
      type: "InvalidParameterValueException",
      message: "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.",
    });
    expect(lambdaError(() => applyStreamSettings({ StartingPosition: "AT_TIMESTAMP" }, undefined, ACCOUNT, NOW)).type).toBe("InvalidParameterValueException");
    expect(lambdaError(() => applyStreamSettings({ StartingPosition: "AT_TIMESTAMP", StartingPositionTimestamp: NOW / 1000 + 60 }, undefined, ACCOUNT, NOW)).message).toContain("future");
    expect(lambdaError(() => applyStreamSettings({ StartingPosition: "LATEST", MaximumRecordAgeInSeconds: 59 }, undefined, ACCOUNT, NOW)).message).toContain("-1 or between 60");
    expect(lambdaError(() => applyStreamSettings({ StartingPosition: "LATEST", ScalingConfig: { MaximumConcurrency: 2 } }, undefined, ACCOUNT, NOW)).message).toBe(
      "Unsupported ScalingConfig parameter for given event source mapping type.",
    );
    const foreign = `arn:aws:sqs:us-east-1:999999999999:q`;
    expect(lambdaError(() => applyStreamSettings({ StartingPosition: "LATEST", DestinationConfig: { OnFailure: { Destination: foreign } } }, undefined, ACCOUNT, NOW)).message).toBe(
      `The provided destination config DestinationConfig(onSuccess=null, onFailure=OnFailure(destination=${foreign})) is invalid.`,
    );
    expect(lambdaError(() => applyStreamSettings({ StartingPosition: "LATEST", FilterCriteria: { Filters: [{ Pattern: '{"body":["x"]}' }] } }, undefined, ACCOUNT, NOW)).message).toBe(
      "Invalid filter pattern definition.",
    );
  });

  it("SQS sources refuse stream settings", () => {
    expect(lambdaError(() => applySettings({ StartingPosition: "LATEST" })).message).toBe("StartingPosition is not valid for SQS event sources.");
    expect(lambdaError(() => applySettings({ BisectBatchOnFunctionError: true })).message).toBe("Unsupported BisectBatchOnFunctionError parameter for given event source mapping type.");
    expect(lambdaError(() => applySettings({ DestinationConfig: { OnFailure: { Destination: "x" } } })).message).toBe(
      "Unsupported DestinationConfig parameter for given event source mapping type.",
    );
  });

  it("an update keeps what it does not name", () => {
    const base = applyStreamSettings({ StartingPosition: "TRIM_HORIZON", MaximumRetryAttempts: 2, BisectBatchOnFunctionError: true }, undefined, ACCOUNT, NOW);
    const next = applyStreamSettings({ BatchSize: 7 }, base, ACCOUNT, NOW);
    expect(next.batchSize).toBe(7);
    expect(next.stream).toEqual(base.stream);
  });
});

describe("Kinesis filters, event and on-failure record", () => {
  it("filters on the decoded data, JSON fields or the raw text", () => {
    const match = compileFilters(['{"data":{"kind":["bad"]}}'], "kinesis");
    expect(match({ data: '{"kind":"bad"}' })).toBe(true);
    expect(match({ data: '{"kind":"good"}' })).toBe(false);
    expect(match({ data: "not json" })).toBe(false);
    expect(compileFilters(['{"data":[{"prefix":"ord_"}]}'], "kinesis")({ data: "ord_1" })).toBe(true);
  });

  it("builds Lambda's Kinesis record", () => {
    const record = kinesisRecord(
      { sequenceNumber: "4959", partitionKey: "k", data: new TextEncoder().encode("hi"), arrivalMs: 1545084650987 },
      { shardId: "shardId-000000000006", streamArn: "arn:aws:kinesis:us-east-1:123456789012:stream/s", region: "us-east-1", roleArn: "arn:aws:iam::123456789012:role/r" },
    );
    expect(record).toEqual({
      kinesis: { kinesisSchemaVersion: "1.0", partitionKey: "k", sequenceNumber: "4959", data: "aGk=", approximateArrivalTimestamp: 1545084650.987 },
      eventSource: "aws:kinesis",
      eventVersion: "1.0",
      eventID: "shardId-000000000006:4959",
      eventName: "aws:kinesis:record",
      invokeIdentityArn: "arn:aws:iam::123456789012:role/r",
      awsRegion: "us-east-1",
      eventSourceARN: "arn:aws:kinesis:us-east-1:123456789012:stream/s",
    });
  });

  it("builds the stream on-failure record (metadata, never data)", () => {
    const record = onFailureRecord({
      requestId: "r-1",
      functionArn: "arn:aws:lambda:us-east-1:123456789012:function:f",
      condition: "RetryAttemptsExhausted",
      approximateInvokeCount: 3,
      response: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      shardId: "shardId-000000000000",
      streamArn: "arn:aws:kinesis:us-east-1:123456789012:stream/s",
      records: [
        { sequenceNumber: "1", arrivalMs: 0 },
        { sequenceNumber: "2", arrivalMs: 1000 },
      ],
      nowMs: 5000,
    });
    expect(record).toEqual({
      requestContext: { requestId: "r-1", functionArn: "arn:aws:lambda:us-east-1:123456789012:function:f", condition: "RetryAttemptsExhausted", approximateInvokeCount: 3 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      version: "1.0",
      timestamp: "1970-01-01T00:00:05.000Z",
      KinesisBatchInfo: {
        shardId: "shardId-000000000000",
        startSequenceNumber: "1",
        endSequenceNumber: "2",
        approximateArrivalOfFirstRecord: "1970-01-01T00:00:00.000Z",
        approximateArrivalOfLastRecord: "1970-01-01T00:00:01.000Z",
        batchSize: 2,
        streamArn: "arn:aws:kinesis:us-east-1:123456789012:stream/s",
      },
    });
  });
});
