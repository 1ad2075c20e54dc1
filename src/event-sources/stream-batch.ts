/**
 * One batch of a stream mapping's shard: read the batch's records from the
 * shard object, keep its lane's records that pass the filters, invoke the
 * function with Lambda's Kinesis event through the loopback runner, and say
 * what the result means for the batch (stream-rules.ts decides retries,
 * bisection and discards from it).
 */
import { exports } from "cloudflare:workers";
import { StreamShard } from "../kinesis/shard-object";
import type { ShardRecord } from "../kinesis/shard-object";
import { reportedFailures } from "./batch-result";
import type { FilterableMessage } from "./filter";
import type { EventContext, KinesisRecord } from "./kinesis-event";
import { kinesisRecord } from "./kinesis-event";
import type { PendingBatch } from "./stream-rules";
import { laneOf, lowestFailedIndex } from "./stream-rules";
import type { OpenWindow } from "./tumbling-window";
import { responseState, windowEvent } from "./tumbling-window";

/** What a shard poller is asked to run: its mapping, stream and shard (kept by the StreamPoller). */
export interface ShardAssignment {
  tenantId: string;
  uuid: string;
  functionName: string;
  qualifier?: string;
  functionArn: string;
  streamName: string;
  streamId: string;
  streamArn: string;
  shardIndex: number;
  shardId: string;
  region: string;
}

export interface BatchMember {
  position: number;
  sequenceNumber: string;
  arrivalMs: number;
}

export type BatchRun =
  /** Nothing of the lane in the range (filtered out or expired): done. */
  | { kind: "empty" }
  /** `state`: the state the function returned (JSON text), in a tumbling window. */
  | { kind: "ok"; members: BatchMember[]; response: BatchResponse; state?: string }
  /**
   * The function failed: retry from `retryFrom` (0 for an error, the lowest reported record for ReportBatchItemFailures).
   * A partial failure in a tumbling window carries the state returned with it.
   */
  | { kind: "failed"; members: BatchMember[]; retryFrom: number; partial: boolean; response: BatchResponse; state?: string }
  /** The first records are older than MaximumRecordAgeInSeconds: they are discarded unsent, the rest run next. */
  | { kind: "aged"; members: BatchMember[] }
  /** Nothing ran (throttled, or the function cannot be invoked): try again later, no retry spent. */
  | { kind: "not-run"; reason: string };

export type BatchResponse = { statusCode: number; executedVersion: string; functionError?: string };

export interface BatchContext {
  assignment: ShardAssignment;
  batchSize: number;
  lanes: number;
  reportBatchItemFailures: boolean;
  /** MaximumRecordAgeInSeconds in ms; null for no limit. */
  maximumRecordAgeMs: number | null;
  matches: (record: FilterableMessage) => boolean;
  event: EventContext;
  /** The shard's open tumbling window, when the mapping has one: the event carries its fields and state. */
  window?: OpenWindow;
}

const decoder = new TextDecoder();

/** The record as a filter sees it: its data decoded as UTF-8. */
export const filterable = (data: Uint8Array): FilterableMessage => ({ data: decoder.decode(data) });

/** The batch's members among `records` (the shard's, from the batch's start): its lane, its range, passing the filters. */
export function membersOf(records: ShardRecord[], batch: PendingBatch, ctx: Pick<BatchContext, "lanes" | "matches">): ShardRecord[] {
  return records.filter(
    (r) => r.position >= batch.from && r.position < batch.to && laneOf(r.partitionKey, ctx.lanes) === batch.lane && ctx.matches(filterable(r.data)),
  );
}

/**
 * Runs `batch`. A read stops at the shard's 10 MB answer limit: then only
 * [from, coveredTo) was run, and the caller keeps [coveredTo, to) pending.
 */
export async function runBatch(env: Env, batch: PendingBatch, ctx: BatchContext): Promise<{ run: BatchRun; coveredTo: number }> {
  const a = ctx.assignment;
  const shard = StreamShard.of(env, a.tenantId, a.streamId, a.shardIndex);
  const read = await shard.read(a.streamId, batch.from, batch.to - batch.from);
  if (!read) return { run: { kind: "not-run", reason: "PROBLEM: The event source stream does not exist." }, coveredTo: batch.to };
  const coveredTo = Math.max(batch.from + 1, Math.min(batch.to, read.nextPosition));
  const members = membersOf(read.records, { ...batch, to: coveredTo }, ctx);
  return { run: await invokeMembers(members, ctx), coveredTo };
}

async function invokeMembers(members: ShardRecord[], ctx: BatchContext): Promise<BatchRun> {
  if (members.length === 0) return { kind: "empty" };
  const now = Date.now();
  const maxAge = ctx.maximumRecordAgeMs;
  // Arrival times follow positions, so the records too old to send are the first ones.
  const aged = maxAge === null ? [] : members.filter((r) => now - r.arrivalMs > maxAge);
  if (aged.length > 0) return { kind: "aged", members: aged.map((r) => ({ position: r.position, sequenceNumber: r.sequenceNumber, arrivalMs: r.arrivalMs })) };
  const records: KinesisRecord[] = members.map((r) => kinesisRecord(r, ctx.event));
  const payload = ctx.window ? windowEvent(JSON.stringify(records), ctx.window, ctx.event, false) : JSON.stringify({ Records: records });
  const result = await invokeWith(ctx, payload);
  if (result.kind !== "ran") return result;

  const view: BatchMember[] = members.map((r) => ({ position: r.position, sequenceNumber: r.sequenceNumber, arrivalMs: r.arrivalMs }));
  const response = result.response;
  if (result.functionError) return { kind: "failed", members: view, retryFrom: 0, partial: false, response };
  // In a tumbling window a response without `state` is a failed invocation (Lambda's TimeWindowEventResponse rule).
  const state = ctx.window ? responseState(result.payload) : undefined;
  if (state === null) return { kind: "failed", members: view, retryFrom: 0, partial: false, response };
  const withState = state === undefined ? {} : { state };
  if (!ctx.reportBatchItemFailures) return { kind: "ok", members: view, response, ...withState };
  const failed = reportedFailures(result.payload, new Set(view.map((m) => m.sequenceNumber)));
  // A malformed response fails the whole batch, as Lambda's batch item failure rules say.
  if (failed === null) return { kind: "failed", members: view, retryFrom: 0, partial: false, response };
  const from = lowestFailedIndex(view.map((m) => m.sequenceNumber), [...failed]);
  if (from === null) return { kind: "ok", members: view, response, ...withState };
  return { kind: "failed", members: view, retryFrom: from, partial: true, response, ...withState };
}

type Invoked =
  | { kind: "ran"; functionError: boolean; payload: string; response: BatchResponse }
  | { kind: "not-run"; reason: string };

/** One synchronous invocation of the mapping's function through the loopback runner. */
async function invokeWith(ctx: Pick<BatchContext, "assignment">, payload: string): Promise<Invoked> {
  const a = ctx.assignment;
  const result = await exports.SqsBatchRunner.run({
    tenantId: a.tenantId,
    functionName: a.functionName,
    ...(a.qualifier === undefined ? {} : { qualifier: a.qualifier }),
    payload,
  });
  if (result.kind === "throttled") return { kind: "not-run", reason: "PROBLEM: Function call throttled" };
  if (result.kind === "refused") return { kind: "not-run", reason: result.reason };
  const response: BatchResponse = { statusCode: 200, executedVersion: result.executedVersion };
  if (result.functionError) return { kind: "ran", functionError: true, payload: result.payload, response: { ...response, functionError: "Unhandled" } };
  return { kind: "ran", functionError: false, payload: result.payload, response };
}

/**
 * The final invocation of a tumbling window (no records, its state,
 * `isFinalInvokeForWindow: true`): "ok" once it succeeded (its response must
 * carry `state` as every window invocation's), else why not.
 */
export async function invokeWindowFinal(window: OpenWindow, ctx: Pick<BatchContext, "assignment" | "event">): Promise<{ kind: "ok" } | { kind: "failed" | "not-run"; reason: string }> {
  const result = await invokeWith(ctx, windowEvent("[]", window, ctx.event, true));
  if (result.kind !== "ran") return result;
  if (result.functionError) return { kind: "failed", reason: "PROBLEM: Function call failed" };
  if (responseState(result.payload) === null) return { kind: "failed", reason: "PROBLEM: Function response had no state for its tumbling window" };
  return { kind: "ok" };
}
