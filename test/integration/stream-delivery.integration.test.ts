import { describe, expect, it } from "vitest";
import { awsJson, newTenant, ROLE, signed } from "../helpers/platform";
import { arnOf, createQueue, receive, sleep } from "../helpers/sqs";
import type { Seen } from "../helpers/streams";
import { ESM, batches, deliveries, makeFunction, makeStream, map, put, recordingHandler, shardStatus, streamArnOf, until } from "../helpers/streams";

// Delivery through stream (Kinesis) event source mappings, in workerd:
// records put on real shard objects are read by the mapping's StreamPoller
// objects, run through the sync invoke path (a real Dynamic Worker) and
// checkpointed. The poison-pill demos: one bad record under the default
// settings, with retries + an on-failure queue, and with bisection.

interface OnFailure {
  requestContext: { condition: string; approximateInvokeCount: number; functionArn: string };
  responseContext: { functionError: string };
  KinesisBatchInfo: { shardId: string; startSequenceNumber: string; endSequenceNumber: string; batchSize: number; streamArn: string };
}

const goodAndPoison = (prefix: string, before: number, after: number) => [
  ...Array.from({ length: before }, (_, i) => `${prefix}-good-${i}`),
  `${prefix}-POISON`,
  ...Array.from({ length: after }, (_, i) => `${prefix}-good-${before + i}`),
];

/** Every batch's records in sequence order, and each key's first deliveries in order. */
function expectOrdered(seen: Seen[][]) {
  for (const batch of seen) {
    const seqs = batch.map(([, seq]) => BigInt(seq));
    for (let i = 1; i < seqs.length; i++) expect((seqs[i] ?? 0n) > (seqs[i - 1] ?? 0n)).toBe(true);
  }
  const lastByKey = new Map<string, bigint>();
  const firstSeen = new Set<string>();
  for (const batch of seen) {
    for (const [key, seq] of batch) {
      if (firstSeen.has(seq)) continue;
      firstSeen.add(seq);
      const n = BigInt(seq);
      const last = lastByKey.get(key);
      if (last !== undefined) expect(n > last).toBe(true);
      lastByKey.set(key, n);
    }
  }
}

describe("stream event source mapping delivery", () => {
  it("delivers Lambda's Kinesis event in shard order, batch by batch, and skips what the filters drop", async () => {
    const key = await newTenant();
    const name = await makeFunction(
      key,
      "shape",
      `exports.handler = async (event) => {
        console.log("EVENT " + JSON.stringify(event.Records[0]));
        console.log("BATCH " + JSON.stringify(event.Records.map((r) => [r.kinesis.partitionKey, r.kinesis.sequenceNumber, atob(r.kinesis.data)])));
        return {};
      };`,
    );
    const stream = await makeStream(key, "shape", 1);
    const data = Array.from({ length: 25 }, (_, i) => (i % 5 === 4 ? JSON.stringify({ kind: "drop", i }) : JSON.stringify({ kind: "keep", i })));
    const seqs = await put(key, stream, data.map((d, i) => ({ data: d, key: `k${i % 3}` })));
    const uuid = await map(key, {
      FunctionName: name,
      EventSourceArn: streamArnOf(key, stream),
      StartingPosition: "TRIM_HORIZON",
      BatchSize: 7,
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ data: { kind: ["keep"] } }) }] },
    });
    const seen = await until("20 kept records", () => batches(key, name), (b) => b.flat().length >= 20);
    expect(seen.flat().map(([, , d]) => d)).toEqual(data.filter((d) => d.includes("keep")));
    expect(seen.every((b) => b.length <= 7)).toBe(true);
    expectOrdered(seen);

    const res = await signed(key, "GET", `${ESM}/${uuid}`);
    const status = await until("checkpoint past the last record", () => shardStatus(key, uuid, 0), (s) => (s.checkpoint ?? 0) >= 26);
    expect(status.recordsSucceeded).toBe(20);
    expect(res.status).toBe(200);
    await until("LastProcessingResult OK", async () => (await signed(key, "GET", `${ESM}/${uuid}`)).json<{ LastProcessingResult: string }>(), (m) => m.LastProcessingResult === "OK");
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);

    // The event itself, exactly as Lambda shapes it (the first record of the first batch).
    const logs = await awsJson(key, "logs", "Logs_20140328.FilterLogEvents", { logGroupName: `/aws/lambda/${name}` });
    const lines = (logs.body.events as { message: string; timestamp: number }[]).map((e) => e.message).filter((m) => m.includes("\tEVENT "));
    const firstRecords = lines.map((l) => JSON.parse(l.slice(l.indexOf("\tEVENT ") + 7)) as { kinesis: { sequenceNumber: string } });
    const first = firstRecords.find((r) => r.kinesis.sequenceNumber === seqs[0]);
    expect(first).toEqual({
      kinesis: {
        kinesisSchemaVersion: "1.0",
        partitionKey: "k0",
        sequenceNumber: seqs[0],
        data: btoa(data[0] ?? ""),
        approximateArrivalTimestamp: expect.any(Number),
      },
      eventSource: "aws:kinesis",
      eventVersion: "1.0",
      eventID: `shardId-000000000000:${seqs[0]}`,
      eventName: "aws:kinesis:record",
      invokeIdentityArn: ROLE,
      awsRegion: "us-east-1",
      eventSourceARN: streamArnOf(key, stream),
    });
  });

  it("poison (a): by default the bad batch is retried forever, its shard blocks and its iterator age grows; the other shard goes on", async () => {
    const key = await newTenant();
    const name = await makeFunction(key, "block", recordingHandler());
    const stream = await makeStream(key, "block", 2);
    const bad = goodAndPoison("s0", 3, 3);
    await put(key, stream, bad.map((d) => ({ data: d, key: "p0", shard: [0, 2] })));
    const healthy = Array.from({ length: 6 }, (_, i) => `s1-good-${i}`);
    await put(key, stream, healthy.map((d) => ({ data: d, key: "p1", shard: [1, 2] })));
    const uuid = await map(key, { FunctionName: name, EventSourceArn: streamArnOf(key, stream), StartingPosition: "TRIM_HORIZON" });

    const first = await until("four failed invocations on shard 0", () => shardStatus(key, uuid, 0), (s) => s.failedInvocations >= 4);
    await sleep(1500);
    const later = await shardStatus(key, uuid, 0);
    expect(later.failedInvocations).toBeGreaterThan(first.failedInvocations);
    // The iterator age grows while the shard is stuck, and the checkpoint does not move.
    expect(later.iteratorAgeMs).toBeGreaterThan(first.iteratorAgeMs);
    expect(later.checkpoint).toBe(first.checkpoint);
    expect(later.recordsSucceeded).toBe(0);
    // The same age is Lambda's IteratorAge metric of the function (CloudWatch's API, as `aws cloudwatch` reads it).
    const ages = await until(
      "IteratorAge datapoints",
      async () => {
        const res = await awsJson(key, "monitoring", "GraniteServiceVersion20100801.GetMetricStatistics", {
          Namespace: "AWS/Lambda",
          MetricName: "IteratorAge",
          Dimensions: [{ Name: "FunctionName", Value: name }],
          StartTime: Math.floor(Date.now() / 1000) - 600,
          EndTime: Math.floor(Date.now() / 1000) + 60,
          Period: 60,
          Statistics: ["Maximum", "SampleCount"],
        });
        return res.body.Datapoints as Array<{ Maximum: number; SampleCount: number; Unit: string }>;
      },
      (points) => points.reduce((n, p) => n + p.SampleCount, 0) >= 4,
    );
    expect(ages.every((p) => p.Unit === "Milliseconds")).toBe(true);
    expect(Math.max(...ages.map((p) => p.Maximum))).toBeGreaterThanOrEqual(first.iteratorAgeMs);

    // Log lines ship after each invocation: wait for the healthy shard's records and four failed runs.
    const seen = await until(
      "the runs in the log",
      () => batches(key, name),
      (all) => all.filter((b) => b.some(([k]) => k === "p0")).length >= 4 && all.flat().filter(([k]) => k === "p1").length >= healthy.length,
    );
    const shard0 = seen.filter((b) => b.some(([k]) => k === "p0"));
    // The same whole batch again and again: the good records around the poison are re-processed each time.
    expect(shard0.length).toBeGreaterThanOrEqual(4);
    for (const b of shard0) expect(b.map(([, , d]) => d)).toEqual(bad);
    // The healthy shard delivered everything, once.
    const shard1 = seen.filter((b) => b.some(([k]) => k === "p1")).flat().map(([, , d]) => d);
    expect(shard1).toEqual(healthy);
    expect((await shardStatus(key, uuid, 1)).iteratorAgeMs).toBeLessThan(later.iteratorAgeMs);
    const got = await (await signed(key, "GET", `${ESM}/${uuid}`)).json<{ LastProcessingResult: string }>();
    expect(["PROBLEM: Function call failed", "No records processed", "OK"]).toContain(got.LastProcessingResult);
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
  });

  it("poison (b): MaximumRetryAttempts 2 + OnFailure: the batch's info goes to the queue and the shard moves on", async () => {
    const key = await newTenant();
    const name = await makeFunction(key, "retries", recordingHandler());
    const stream = await makeStream(key, "retries", 1);
    const dlq = `retries-dlq-${Date.now()}`;
    const dlqUrl = await createQueue(key, dlq);
    const bad = goodAndPoison("b", 2, 2);
    const seqs = await put(key, stream, bad.map((d) => ({ data: d, key: "k" })));
    const uuid = await map(key, {
      FunctionName: name,
      EventSourceArn: streamArnOf(key, stream),
      StartingPosition: "TRIM_HORIZON",
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: arnOf(key, dlq) } },
    });
    const messages = await until("the on-failure record", () => receive(key, dlqUrl, { MaxNumberOfMessages: 10 }), (m) => m.length > 0);
    expect(messages).toHaveLength(1);
    const record = JSON.parse(messages[0]?.Body ?? "{}") as OnFailure;
    expect(record.requestContext).toMatchObject({ condition: "RetryAttemptsExhausted", approximateInvokeCount: 3, functionArn: `arn:aws:lambda:us-east-1:${key.accountId}:function:${name}` });
    expect(record.responseContext.functionError).toBe("Unhandled");
    expect(record.KinesisBatchInfo).toMatchObject({
      shardId: "shardId-000000000000",
      startSequenceNumber: seqs[0],
      endSequenceNumber: seqs[seqs.length - 1],
      batchSize: 5,
      streamArn: streamArnOf(key, stream),
    });

    // The shard moved on: a record put now is delivered.
    await put(key, stream, [{ data: "after", key: "k" }]);
    const seen = await until(
      "the record after the poison batch",
      () => batches(key, name),
      (b) => b.flat().some(([, , d]) => d === "after") && b.filter((x) => x.some(([, , d]) => d === "b-POISON")).length >= 3,
    );
    expect(seen.filter((b) => b.some(([, , d]) => d === "b-POISON"))).toHaveLength(3);
    const status = await shardStatus(key, uuid, 0);
    expect(status.batchesDiscarded).toBe(1);
    expect(status.destinationFailures).toBe(0);
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
  });

  it("poison (c): BisectBatchOnFunctionError isolates the one bad record; every good record is processed, only the bad one is reported", async () => {
    const key = await newTenant();
    const name = await makeFunction(key, "bisect", recordingHandler());
    const stream = await makeStream(key, "bisect", 1);
    const dlq = `bisect-dlq-${Date.now()}`;
    const dlqUrl = await createQueue(key, dlq);
    const bad = goodAndPoison("c", 5, 10);
    const seqs = await put(key, stream, bad.map((d, i) => ({ data: d, key: `k${i % 4}` })));
    const uuid = await map(key, {
      FunctionName: name,
      EventSourceArn: streamArnOf(key, stream),
      StartingPosition: "TRIM_HORIZON",
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 1,
      DestinationConfig: { OnFailure: { Destination: arnOf(key, dlq) } },
    });
    const messages = await until("the on-failure record", () => receive(key, dlqUrl, { MaxNumberOfMessages: 10 }), (m) => m.length > 0);
    const record = JSON.parse(messages[0]?.Body ?? "{}") as OnFailure;
    expect(messages).toHaveLength(1);
    expect(record.KinesisBatchInfo).toMatchObject({ batchSize: 1, startSequenceNumber: seqs[5], endSequenceNumber: seqs[5] });
    expect(record.requestContext.condition).toBe("RetryAttemptsExhausted");

    const status = await until("the round done", () => shardStatus(key, uuid, 0), (s) => (s.checkpoint ?? 0) > 16);
    const goods = bad.filter((d) => !d.includes("POISON"));
    const okBatches = (all: Seen[][]) => all.filter((b) => !b.some(([, , d]) => d.includes("POISON")));
    // Log lines ship after the invocation: wait until every batch the poller ran is in the log.
    const seen = await until("the successful batches in the log", () => batches(key, name), (b) => new Set(okBatches(b).flat().map(([, , d]) => d)).size >= goods.length);
    const succeeded = okBatches(seen);
    // Every good record made it through in a successful batch.
    expect(new Set(succeeded.flat().map(([, , d]) => d))).toEqual(new Set(goods));
    const counts = deliveries(seen);
    const reprocessed = goods.reduce((n, d) => n + (counts.get(d) ?? 0) - 1, 0);
    // Poison at index 5 of 16: the failing batches [0,16) [0,8) [4,8) [4,6) carry 15 + 7 + 3 + 1 good records
    // that are delivered again once their half succeeds; the poison alone runs twice (1 retry) and is discarded.
    expect(reprocessed).toBe(15 + 7 + 3 + 1);
    expect(seen.filter((b) => b.length === 1 && b[0]?.[2] === "c-POISON")).toHaveLength(2);
    expect(status.recordsSucceeded).toBe(15);
    expectOrdered(seen);
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
  });

  it("ReportBatchItemFailures: the shard resumes from the lowest reported record", async () => {
    const key = await newTenant();
    const name = await makeFunction(key, "report", recordingHandler({ report: true }));
    const stream = await makeStream(key, "report", 1);
    const dlq = `report-dlq-${Date.now()}`;
    const dlqUrl = await createQueue(key, dlq);
    const bad = goodAndPoison("r", 2, 2);
    const seqs = await put(key, stream, bad.map((d) => ({ data: d, key: "k" })));
    const uuid = await map(key, {
      FunctionName: name,
      EventSourceArn: streamArnOf(key, stream),
      StartingPosition: "TRIM_HORIZON",
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      MaximumRetryAttempts: 1,
      DestinationConfig: { OnFailure: { Destination: arnOf(key, dlq) } },
    });
    const messages = await until("the on-failure record", () => receive(key, dlqUrl, { MaxNumberOfMessages: 10 }), (m) => m.length > 0);
    const record = JSON.parse(messages[0]?.Body ?? "{}") as OnFailure;
    expect(record.KinesisBatchInfo).toMatchObject({ startSequenceNumber: seqs[2], endSequenceNumber: seqs[4], batchSize: 3 });
    // Log lines ship after each invocation: wait for both runs' lines.
    const seen = await until("both runs in the log", () => batches(key, name), (b) => b.length >= 2);
    expect(seen.map((b) => b.map(([, , d]) => d))).toEqual([bad, bad.slice(2)]);
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
  });

  it("MaximumRecordAgeInSeconds: records older than the limit are reported unsent (RecordAgeExceeded), newer ones run", async () => {
    const key = await newTenant();
    const name = await makeFunction(key, "age", recordingHandler());
    const stream = await makeStream(key, "age", 1);
    const dlq = `age-dlq-${Date.now()}`;
    const dlqUrl = await createQueue(key, dlq);
    const old = await put(key, stream, [{ data: "old-1", key: "k" }, { data: "old-2", key: "k" }]);
    // The mapping starts disabled and is enabled once the records are past the 60 s minimum limit.
    const uuid = await map(key, {
      FunctionName: name,
      EventSourceArn: streamArnOf(key, stream),
      StartingPosition: "TRIM_HORIZON",
      Enabled: false,
      MaximumRecordAgeInSeconds: 60,
      DestinationConfig: { OnFailure: { Destination: arnOf(key, dlq) } },
    });
    await sleep(61_000);
    await put(key, stream, [{ data: "fresh", key: "k" }]);
    expect((await signed(key, "PUT", `${ESM}/${uuid}`, { Enabled: true })).status).toBe(202);
    const messages = await until("the on-failure record", () => receive(key, dlqUrl, { MaxNumberOfMessages: 10 }), (m) => m.length > 0);
    const record = JSON.parse(messages[0]?.Body ?? "{}") as OnFailure;
    expect(record.requestContext).toMatchObject({ condition: "RecordAgeExceeded", approximateInvokeCount: 0 });
    expect(record.KinesisBatchInfo).toMatchObject({ startSequenceNumber: old[0], endSequenceNumber: old[1], batchSize: 2 });
    const seen = await until("the fresh record", () => batches(key, name), (b) => b.length > 0);
    expect(seen.map((b) => b.map(([, , d]) => d))).toEqual([["fresh"]]);
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
  }, 120_000);

  it("ParallelizationFactor 10 runs a shard's keys side by side and keeps each key's order", async () => {
    const key = await newTenant();
    const name = await makeFunction(key, "parallel", recordingHandler({ delayMs: 30 }));
    const stream = await makeStream(key, "parallel", 1);
    const data = Array.from({ length: 120 }, (_, i) => ({ data: `m${i}`, key: `key-${i % 12}` }));
    await put(key, stream, data);
    const uuid = await map(key, { FunctionName: name, EventSourceArn: streamArnOf(key, stream), StartingPosition: "TRIM_HORIZON", BatchSize: 4, ParallelizationFactor: 10 });
    const seen = await until("all 120 records", () => batches(key, name), (b) => b.flat().length >= 120, 40_000);
    expect(seen.flat().map(([, , d]) => d).sort()).toEqual(data.map((d) => d.data).sort());
    expectOrdered(seen);
    // More than one key in flight: batches hold one lane's keys each, up to 4 records.
    expect(seen.every((b) => b.length <= 4)).toBe(true);
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
  }, 60_000);
});
