/**
 * `npm run bench:streams`: stream (Kinesis) event source mappings on this
 * machine, over loopback, and the poison-pill remedies side by side.
 *
 * Starts cellfn (test/e2e/harness.ts: `wrangler dev`, fresh state) and an
 * HTTP receiver on 127.0.0.1 in this process. The consumer function POSTs
 * every batch it gets to the receiver ([shard, key, sequence number, data,
 * arrival ms] per record), then throws when a record's data starts with
 * POISON. Each scenario gets a fresh stream of BENCH_STREAMS_SHARDS shards and
 * a mapping (BatchSize BENCH_STREAMS_BATCH, TRIM_HORIZON); the bench puts
 * BENCH_STREAMS_RECORDS records per shard, paced over BENCH_STREAMS_PUT_S
 * seconds, keys spread over the shards by ExplicitHashKey, and (except
 * "clean") one poison record in the middle of shard 0's records.
 *
 *   clean        no poison: the baseline
 *   default      poison, Lambda's defaults (retries until the record expires): shard 0 stalls
 *   retries+dest poison, MaximumRetryAttempts 2 + OnFailure queue
 *   bisect       poison, BisectBatchOnFunctionError + MaximumRetryAttempts 2 + OnFailure queue
 *
 * Per scenario: good records delivered, records/s per shard and in total
 * (first put → last first-delivery), end-to-end latency p50/p99 (put sent →
 * the handler's POST arrives here) for the healthy shards and for shard 0,
 * good records that went to the on-failure queue inside a discarded batch
 * instead of being processed, time to drain (every good record processed or
 * reported), duplicate deliveries of good records (re-processed), and for
 * poison: failed invocations and the time from the first failed invocation
 * until shard 0's last good record was delivered (time to isolate), and the
 * iterator age over time (age of a batch's last record when it ran; max per
 * BENCH_STREAMS_BUCKET_S bucket) for shard 0 and the healthy shards.
 * A scenario ends when every good record is delivered or after
 * BENCH_STREAMS_MAX_S. Writes bench/results/streams-latest.json.
 * Knobs: BENCH_STREAMS_SHARDS (4), BENCH_STREAMS_RECORDS (200 per shard),
 * BENCH_STREAMS_BATCH (50), BENCH_STREAMS_PUT_S (4), BENCH_STREAMS_MAX_S (30),
 * BENCH_STREAMS_BUCKET_S (2), BENCH_STREAMS_SCENARIOS (all), BENCH_STREAMS_WARMUP (1; 0 skips the
 * unreported warm-up run), BENCH_VERBOSE=1.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { CreateStreamCommand, KinesisClient, PutRecordsCommand, waitUntilStreamExists } from "@aws-sdk/client-kinesis";
import { CreateEventSourceMappingCommand, CreateFunctionCommand, DeleteEventSourceMappingCommand } from "@aws-sdk/client-lambda";
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { strToU8, zipSync } from "fflate";
import { createTenantWithKey, lambdaClient, ROOT, startPlatform, untilActive } from "../test/e2e/harness";
import { envNumber } from "./lib/settings";

const SHARDS = envNumber("BENCH_STREAMS_SHARDS", 4);
const PER_SHARD = envNumber("BENCH_STREAMS_RECORDS", 200);
const BATCH = envNumber("BENCH_STREAMS_BATCH", 50);
const PUT_S = envNumber("BENCH_STREAMS_PUT_S", 4);
const MAX_S = envNumber("BENCH_STREAMS_MAX_S", 30);
const BUCKET_S = envNumber("BENCH_STREAMS_BUCKET_S", 2);
const verbose = process.env.BENCH_VERBOSE === "1";

type Scenario = "clean" | "default" | "retries+dest" | "bisect";
const ALL: Scenario[] = ["clean", "default", "retries+dest", "bisect"];
const SCENARIOS = (process.env.BENCH_STREAMS_SCENARIOS?.split(",") as Scenario[] | undefined) ?? ALL;
/** A first, unreported clean run warms the function's execution environments (the first scenario otherwise pays their start). */
const WARMUP = process.env.BENCH_STREAMS_WARMUP !== "0";

const handler = (port: number) => `exports.handler = async (event) => {
  const records = event.Records.map((r) => [r.eventID.split(":")[0], r.kinesis.partitionKey, r.kinesis.sequenceNumber, Buffer.from(r.kinesis.data, "base64").toString(), Math.round(r.kinesis.approximateArrivalTimestamp * 1000)]);
  const failed = records.some((r) => r[3].startsWith("POISON"));
  await fetch("http://127.0.0.1:${port}/batch", { method: "POST", body: JSON.stringify({ records, failed }) });
  if (failed) throw new Error("poison record");
  return {};
};`;

interface Delivery {
  at: number;
  failed: boolean;
  records: [shard: string, key: string, seq: string, data: string, arrivalMs: number][];
}

function receiver(): Promise<{ port: number; deliveries: Delivery[]; close: () => void }> {
  const deliveries: Delivery[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const at = performance.timeOrigin + performance.now();
      try {
        deliveries.push({ at, ...(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Omit<Delivery, "at">) });
      } catch {
        // A body that is not a batch: ignored.
      }
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({ port: typeof address === "object" && address ? address.port : 0, deliveries, close: () => server.close() });
    }),
  );
}

const pct = (values: number[], p: number) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const hashKeyOfShard = (i: number) => ((1n << 128n) / BigInt(SHARDS) * BigInt(i)).toString();
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "-");

async function main() {
  const rx = await receiver();
  const platform = await startPlatform({ verbose });
  const results: Record<string, unknown>[] = [];
  try {
    const creds = await createTenantWithKey(platform, "bench-streams");
    const common = { endpoint: platform.url, region: "us-east-1", credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }, maxAttempts: 1 };
    const lambda = lambdaClient(platform, creds);
    const kinesis = new KinesisClient({ ...common, requestHandler: new NodeHttpHandler({ connectionTimeout: 10_000, requestTimeout: 60_000 }) });
    const sqs = new SQSClient(common);
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: "consumer",
        Role: "arn:aws:iam::123456789012:role/r",
        Runtime: "nodejs22.x",
        Handler: "index.handler",
        Code: { ZipFile: zipSync({ "index.js": strToU8(handler(rx.port)) }) },
      }),
    );
    await untilActive(lambda, "consumer");

    for (const [index, scenario] of [...(WARMUP ? (["clean"] as Scenario[]) : []), ...SCENARIOS].entries()) {
      const warmup = WARMUP && index === 0;
      const stream = `bench-${scenario.replace(/[^a-z]/g, "")}-${Date.now()}`;
      const failures = `${stream}-failures`;
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: failures }));
      await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: SHARDS }));
      await waitUntilStreamExists({ client: kinesis, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { StreamName: stream });
      const mapping = await lambda.send(
        new CreateEventSourceMappingCommand({
          FunctionName: "consumer",
          EventSourceArn: `arn:aws:kinesis:us-east-1:${creds.accountId}:stream/${stream}`,
          StartingPosition: "TRIM_HORIZON",
          BatchSize: BATCH,
          ...(scenario === "retries+dest" || scenario === "bisect"
            ? { MaximumRetryAttempts: 2, DestinationConfig: { OnFailure: { Destination: `arn:aws:sqs:us-east-1:${creds.accountId}:${failures}` } } }
            : {}),
          ...(scenario === "bisect" ? { BisectBatchOnFunctionError: true } : {}),
        }),
      );
      const start = rx.deliveries.length;
      const putAt = new Map<string, number>();
      const poisonIndex = scenario === "clean" ? -1 : Math.floor(PER_SHARD / 2);
      const t0 = Date.now();
      // Paced puts: one PutRecords per shard-round of ROUND records, spread over PUT_S seconds.
      const ROUND = Math.max(1, Math.ceil(PER_SHARD / (PUT_S * 4)));
      for (let i = 0; i < PER_SHARD; i += ROUND) {
        const entries = [];
        for (let s = 0; s < SHARDS; s++) {
          for (let j = i; j < Math.min(PER_SHARD, i + ROUND); j++) {
            const data = s === 0 && j === poisonIndex ? `POISON-${s}-${j}` : `r-${s}-${j}`;
            entries.push({ Data: Buffer.from(data), PartitionKey: `key-${s}-${j % 10}`, ExplicitHashKey: hashKeyOfShard(s) });
          }
        }
        const sentAt = performance.timeOrigin + performance.now();
        const out = await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: entries }));
        if ((out.FailedRecordCount ?? 0) > 0) console.warn(`${scenario}: ${out.FailedRecordCount} records throttled`);
        entries.forEach((e, k) => {
          if (out.Records?.[k]?.ErrorCode === undefined) putAt.set(Buffer.from(e.Data).toString(), sentAt);
        });
        const due = t0 + ((i + ROUND) / PER_SHARD) * PUT_S * 1000;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
      const goods = [...putAt.keys()].filter((d) => !d.startsWith("POISON"));
      const deadline = t0 + MAX_S * 1000;
      const firstDelivery = new Map<string, number>();
      // Good records the on-failure destination got (in a discarded batch): settled, though never processed.
      const reported = new Map<string, number>();
      const ranges: [bigint, bigint, number][] = [];
      for (;;) {
        const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
        for (const m of got.Messages ?? []) {
          const info = (JSON.parse(m.Body ?? "{}") as { KinesisBatchInfo: { startSequenceNumber: string; endSequenceNumber: string } }).KinesisBatchInfo;
          ranges.push([BigInt(info.startSequenceNumber), BigInt(info.endSequenceNumber), performance.timeOrigin + performance.now()]);
        }
        if (got.Messages?.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: got.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
        for (const d of rx.deliveries.slice(start)) {
          for (const r of d.records) {
            if (!d.failed && !firstDelivery.has(r[3])) firstDelivery.set(r[3], d.at);
            const range = ranges.find(([lo, hi]) => BigInt(r[2]) >= lo && BigInt(r[2]) <= hi);
            if (range && !reported.has(r[3]) && !r[3].startsWith("POISON")) reported.set(r[3], range[2]);
          }
        }
        if (goods.every((g) => firstDelivery.has(g) || reported.has(g)) || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      await lambda.send(new DeleteEventSourceMappingCommand({ UUID: mapping.UUID }));
      const mine = rx.deliveries.slice(start);
      if (!warmup) results.push(summarise(scenario, mine, putAt, goods, firstDelivery, reported, t0));
    }
  } finally {
    rx.close();
    await platform.stop();
  }
  print(results);
  const out = path.join(ROOT, "bench", "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, "streams-latest.json"), JSON.stringify({ at: new Date().toISOString(), shards: SHARDS, perShard: PER_SHARD, batch: BATCH, results }, null, 2));
}

function summarise(
  scenario: string,
  mine: Delivery[],
  putAt: Map<string, number>,
  goods: string[],
  first: Map<string, number>,
  reported: Map<string, number>,
  t0: number,
): Record<string, unknown> {
  const shard0 = "shardId-000000000000";
  const shardOf = (data: string) => (data.split("-")[1] === "0" ? "poisoned" : "healthy");
  const latency = (which: string) => goods.filter((g) => shardOf(g) === which && first.has(g)).map((g) => (first.get(g) ?? 0) - (putAt.get(g) ?? 0));
  const delivered = goods.filter((g) => first.has(g));
  const lastFirst = Math.max(...delivered.map((g) => first.get(g) ?? 0));
  const goodDeliveries = mine.flatMap((d) => d.records).filter((r) => !r[3].startsWith("POISON")).length;
  const failedRuns = mine.filter((d) => d.failed);
  const firstFail = Math.min(...failedRuns.map((d) => d.at));
  const settledAt = (g: string) => first.get(g) ?? reported.get(g);
  const settled = goods.filter((g) => settledAt(g) !== undefined);
  const lastSettled = Math.max(...settled.map((g) => settledAt(g) ?? 0));
  const shard0Goods = goods.filter((g) => shardOf(g) === "poisoned");
  const shard0Done = shard0Goods.every((g) => settledAt(g) !== undefined);
  const shard0Last = Math.max(...shard0Goods.map((g) => settledAt(g) ?? NaN));
  // Iterator age over time: a batch's last record's age when the handler ran it.
  const buckets = new Map<number, { poisoned: number; healthy: number }>();
  for (const d of mine) {
    const last = d.records[d.records.length - 1];
    if (!last) continue;
    const bucket = Math.floor((d.at - t0) / (BUCKET_S * 1000));
    const entry = buckets.get(bucket) ?? { poisoned: 0, healthy: 0 };
    const key = last[0] === shard0 ? "poisoned" : "healthy";
    entry[key] = Math.max(entry[key], Math.round(d.at - last[4]));
    buckets.set(bucket, entry);
  }
  const seconds = (lastFirst - t0) / 1000;
  return {
    scenario,
    goodRecords: goods.length,
    delivered: delivered.length,
    recordsPerSecond: delivered.length / seconds,
    recordsPerSecondPerShard: delivered.length / seconds / SHARDS,
    healthyP50: pct(latency("healthy"), 50),
    healthyP99: pct(latency("healthy"), 99),
    poisonedP50: pct(latency("poisoned"), 50),
    poisonedP99: pct(latency("poisoned"), 99),
    reportedToDestination: reported.size,
    drainS: settled.length === goods.length ? (lastSettled - t0) / 1000 : null,
    duplicates: goodDeliveries - delivered.length,
    failedInvocations: failedRuns.length,
    isolateS: failedRuns.length > 0 && shard0Done ? (shard0Last - firstFail) / 1000 : null,
    iteratorAgeMs: [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([b, v]) => ({ t: b * BUCKET_S, ...v })),
  };
}

function print(results: Record<string, unknown>[]) {
  const rows: [string, (r: Record<string, unknown>) => string][] = [
    ["good records delivered", (r) => `${r.delivered}/${r.goodRecords}`],
    ["records/s total", (r) => fmt(r.recordsPerSecond as number, 1)],
    ["records/s per shard", (r) => fmt(r.recordsPerSecondPerShard as number, 1)],
    ["healthy shards p50 ms", (r) => fmt(r.healthyP50 as number)],
    ["healthy shards p99 ms", (r) => fmt(r.healthyP99 as number)],
    ["shard 0 p50 ms", (r) => fmt(r.poisonedP50 as number)],
    ["shard 0 p99 ms", (r) => fmt(r.poisonedP99 as number)],
    ["good records in on-failure", (r) => String(r.reportedToDestination)],
    ["time to drain s", (r) => (r.drainS === null ? `stalled (>${MAX_S})` : fmt(r.drainS as number, 1))],
    ["failed invocations", (r) => String(r.failedInvocations)],
    ["good records re-processed", (r) => String(r.duplicates)],
    ["time to isolate s", (r) => (r.isolateS === null ? "-" : fmt(r.isolateS as number, 1))],
  ];
  const width = 16;
  console.log(`\nbench:streams — ${SHARDS} shards × ${PER_SHARD} records, BatchSize ${BATCH}, puts over ${PUT_S} s\n`);
  console.log("".padEnd(28) + results.map((r) => String(r.scenario).padStart(width)).join(""));
  for (const [label, cell] of rows) console.log(label.padEnd(28) + results.map((r) => cell(r).padStart(width)).join(""));
  console.log(`\niterator age (ms, max per ${BUCKET_S} s) shard 0 / healthy shards:`);
  for (const r of results) {
    const series = (r.iteratorAgeMs as { t: number; poisoned: number; healthy: number }[]).map((b) => `${b.t}s ${b.poisoned}/${b.healthy}`).join("  ");
    console.log(`  ${String(r.scenario).padEnd(14)} ${series}`);
  }
}

await main();
