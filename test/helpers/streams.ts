import { env } from "cloudflare:workers";
import type { ShardStatus } from "../../src/event-sources/stream-poller-object";
import { StreamPoller } from "../../src/event-sources/stream-poller-object";
import { ok } from "./kinesis";
import type { TenantKey } from "./platform";
import { awsJson, createFunctionBody, signed, waitUntilSettled } from "./platform";
import { sleep } from "./sqs";

/**
 * Stream event source mappings in workerd: a stream, a handler that logs
 * every batch it gets, the mapping, and what the shard pollers report.
 */

export const ESM = "/2015-03-31/event-source-mappings";
export const streamArnOf = (key: TenantKey, name: string) => `arn:aws:kinesis:us-east-1:${key.accountId}:stream/${name}`;

/** The explicit hash key that puts a record on shard `index` of `count` (its range's first key). */
export function hashKeyOfShard(index: number, count: number): string {
  return ((1n << 128n) / BigInt(count) * BigInt(index)).toString();
}

/**
 * A handler that logs `BATCH <json>` with [partitionKey, sequenceNumber, data]
 * per record, and fails the batch when any record's data contains POISON
 * (or, with `report`, names those records in batchItemFailures).
 */
export function recordingHandler(opts: { report?: boolean; delayMs?: number } = {}): string {
  return `exports.handler = async (event) => {
    const seen = event.Records.map((r) => [r.kinesis.partitionKey, r.kinesis.sequenceNumber, atob(r.kinesis.data)]);
    console.log("BATCH " + JSON.stringify(seen));
    ${opts.delayMs ? `await new Promise((r) => setTimeout(r, ${opts.delayMs}));` : ""}
    const bad = event.Records.filter((r) => atob(r.kinesis.data).includes("POISON"));
    ${opts.report ? `return { batchItemFailures: bad.map((r) => ({ itemIdentifier: r.kinesis.sequenceNumber })) };` : `if (bad.length > 0) throw new Error("poison record"); return {};`}
  };`;
}

export async function makeFunction(key: TenantKey, tag: string, code: string): Promise<string> {
  const name = `stream-${tag}-${Date.now()}`;
  const res = await signed(key, "POST", "/2015-03-31/functions", createFunctionBody(name, { "index.js": code }));
  if (res.status !== 201) throw new Error(`CreateFunction: ${res.status} ${await res.text()}`);
  await waitUntilSettled(key, name);
  return name;
}

export async function makeStream(key: TenantKey, tag: string, shards: number): Promise<string> {
  const name = `${tag}-${Date.now()}`;
  await ok(key, "CreateStream", { StreamName: name, ShardCount: shards });
  return name;
}

export async function put(key: TenantKey, stream: string, records: { data: string; key: string; shard?: [number, number] }[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < records.length; i += 500) {
    const entries = records.slice(i, i + 500).map((r) => ({
      Data: btoa(r.data),
      PartitionKey: r.key,
      ...(r.shard === undefined ? {} : { ExplicitHashKey: hashKeyOfShard(r.shard[0], r.shard[1]) }),
    }));
    const res = await ok<{ FailedRecordCount: number; Records: { SequenceNumber: string }[] }>(key, "PutRecords", { StreamName: stream, Records: entries });
    if (res.FailedRecordCount > 0) throw new Error(`PutRecords: ${res.FailedRecordCount} failed`);
    out.push(...res.Records.map((r) => r.SequenceNumber));
  }
  return out;
}

export async function map(key: TenantKey, body: Record<string, unknown>): Promise<string> {
  const res = await signed(key, "POST", ESM, body);
  const text = await res.text();
  if (res.status !== 202) throw new Error(`CreateEventSourceMapping: ${res.status} ${text}`);
  return (JSON.parse(text) as { UUID: string }).UUID;
}

export type Seen = [partitionKey: string, sequenceNumber: string, data: string];

/** Every batch the function logged, oldest first. */
export async function batches(key: TenantKey, name: string): Promise<Seen[][]> {
  const res = await awsJson(key, "logs", "Logs_20140328.FilterLogEvents", { logGroupName: `/aws/lambda/${name}` });
  if (res.status !== 200) return [];
  const events = (res.body.events as { message: string; timestamp: number }[]).slice().sort((a, b) => a.timestamp - b.timestamp);
  return events.filter((e) => e.message.includes("\tBATCH ")).map((e) => JSON.parse(e.message.slice(e.message.indexOf("\tBATCH ") + 7)) as Seen[]);
}

export async function until<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 25_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!done(value)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}`);
    await sleep(150);
    value = await probe();
  }
  return value;
}

export async function shardStatus(key: TenantKey, uuid: string, shardIndex: number): Promise<ShardStatus> {
  return StreamPoller.of(env, key.tenantId, uuid, shardIndex).status();
}

/** How many times each data value was delivered. */
export function deliveries(seen: Seen[][]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const batch of seen) for (const [, , data] of batch) counts.set(data, (counts.get(data) ?? 0) + 1);
  return counts;
}
