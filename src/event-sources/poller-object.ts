import { DurableObject } from "cloudflare:workers";
import { SqsError } from "../sqs/errors";
import { TenantQueues } from "../sqs/queues";
import type { MappingRecord } from "./mapping";
import { settledState, upgradeRecord } from "./mapping";
import type { ShardStatus } from "./stream-poller-object";
import { SHARD_SYNC_INTERVAL_MS, shardStatuses, stopShards, syncShards } from "./stream-mapping";
import type { BatchOutcome } from "./poll-batch";
import { pollBatch } from "./poll-batch";

/** Batches one mapping runs side by side when it has no ScalingConfig. */
export const DEFAULT_CONCURRENT_BATCHES = 2;
/** Batches one poller object runs side by side at most, whatever MaximumConcurrency says (one object, one alarm). */
export const CONCURRENT_BATCHES_MAX = 5;
/** The long poll of the first lane: the loop wakes as soon as a message arrives. */
const LONG_POLL_S = 5;
/** Waits after a throttle or a refused invocation before polling again. */
const THROTTLE_BACKOFF_MS = 1_000;
const REFUSED_BACKOFF_MS = 10_000;
const ERROR_BACKOFF_MS = 5_000;
const KEY = "mapping";

/**
 * One per mapping (keyed `<tenant>/<uuid>`), whatever its source: the
 * mapping's settings and state, and its loop as a chain of alarms.
 * - SQS sources: each alarm runs up to the mapping's concurrency of batches
 *   at once: the first long-polls, the others receive without waiting, so
 *   they only find work when there is a backlog.
 * - Stream sources: each alarm hands the settings to the mapping's shard
 *   pollers (StreamPoller, one per shard) and gathers LastProcessingResult.
 * (The class keeps the name it had when mappings had SQS sources only: a
 * Durable Object class is renamed only by a migration.)
 */
export class SqsPoller extends DurableObject<Env> {
  async get(): Promise<MappingRecord | null> {
    const stored = await this.ctx.storage.get<MappingRecord>(KEY);
    return stored ? upgradeRecord(stored) : null;
  }

  /** A stream mapping's shard pollers, in shard order (empty for SQS sources). */
  async shards(): Promise<ShardStatus[]> {
    const record = await this.get();
    return record ? shardStatuses(this.env, record) : [];
  }

  /** Stores the mapping (keeping the poller's LastProcessingResult) and wakes the loop to settle its state. */
  async put(record: MappingRecord): Promise<MappingRecord> {
    const current = await this.get();
    const stored = current ? { ...record, lastProcessingResult: current.lastProcessingResult } : record;
    await this.ctx.storage.put(KEY, stored);
    await this.ctx.storage.setAlarm(Date.now());
    return stored;
  }

  /** Forgets the mapping (and a stream mapping's checkpoints); an alarm in flight sees it gone and stops. */
  async remove(): Promise<void> {
    const record = await this.get();
    if (record) await stopShards(this.env, record);
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  override async alarm(): Promise<void> {
    let record = await this.get();
    if (!record) return;
    const settled = settledState(record);
    if (settled !== record.state) {
      record = { ...record, state: settled };
      await this.ctx.storage.put(KEY, record);
    }
    if (record.source.kind === "kinesis") return this.#syncStream(record);
    if (record.state !== "Enabled") return;

    let delayMs = 0;
    let result: string | undefined;
    let disable: string | undefined;
    try {
      const outcome = await this.#round(record);
      delayMs = outcome.delayMs;
      result = outcome.result;
    } catch (err) {
      if (err instanceof SqsError && err.type === "QueueDoesNotExist") {
        disable = "PROBLEM: The event source queue does not exist.";
      } else {
        console.error(`event source mapping ${record.uuid}: poll failed`, err);
        delayMs = ERROR_BACKOFF_MS;
      }
    }

    // The mapping may have changed or gone while the batches ran: apply only to what is stored now.
    const now = await this.get();
    if (!now) return;
    if (disable !== undefined && now.state === "Enabled") {
      await this.ctx.storage.put(KEY, { ...now, settings: { ...now.settings, enabled: false }, state: "Disabled", stateTransitionReason: disable, lastProcessingResult: disable });
      return;
    }
    const next: MappingRecord = { ...now, state: settledState(now), ...(result === undefined ? {} : { lastProcessingResult: result }) };
    if (next.state !== now.state || next.lastProcessingResult !== now.lastProcessingResult) await this.ctx.storage.put(KEY, next);
    if (next.state === "Enabled") await this.ctx.storage.setAlarm(Date.now() + delayMs);
  }

  /** A stream mapping: its shard pollers get the settings (an Enabled mapping polls, a Disabled one pauses). */
  async #syncStream(record: MappingRecord): Promise<void> {
    const summary = await syncShards(this.env, record);
    const now = await this.get();
    if (!now) {
      // Deleted while the shards were synced: the shards stop too.
      await stopShards(this.env, record);
      return;
    }
    const result = summary.lastProcessingResult;
    if (result !== undefined && result !== now.lastProcessingResult) await this.ctx.storage.put(KEY, { ...now, lastProcessingResult: result });
    if (now.state === "Enabled") await this.ctx.storage.setAlarm(Date.now() + SHARD_SYNC_INTERVAL_MS);
  }

  async #round(record: MappingRecord): Promise<{ delayMs: number; result?: string }> {
    const source = record.source;
    if (source.kind !== "sqs") return { delayMs: 0 };
    const queueName = source.queueName;
    const queues = new TenantQueues(this.env, record.tenantId);
    const lanes = Math.min(record.settings.maximumConcurrency ?? DEFAULT_CONCURRENT_BATCHES, CONCURRENT_BATCHES_MAX);
    // Lane 0 long-polls (the loop wakes as soon as a message arrives); the others take what is already there.
    const settled = await Promise.allSettled(
      Array.from({ length: lanes }, (_, lane) => pollBatch(queues, record, queueName, this.env.REGION, lane === 0 ? LONG_POLL_S : 0)),
    );
    // Every lane has finished before a failure is reported: no batch is left running behind the next round.
    const outcomes: BatchOutcome[] = [];
    for (const lane of settled) {
      if (lane.status === "rejected") throw lane.reason;
      outcomes.push(lane.value);
    }
    return summarise(outcomes);
  }
}

function summarise(outcomes: BatchOutcome[]): { delayMs: number; result?: string } {
  const refused = outcomes.find((o): o is Extract<BatchOutcome, { kind: "refused" }> => o.kind === "refused");
  if (refused) return { delayMs: REFUSED_BACKOFF_MS, result: refused.reason };
  if (outcomes.some((o) => o.kind === "throttled")) return { delayMs: THROTTLE_BACKOFF_MS, result: "PROBLEM: Function call throttled" };
  const done = outcomes.filter((o): o is Extract<BatchOutcome, { kind: "done" }> => o.kind === "done");
  const problem = done.find((o) => o.result !== "OK");
  if (problem) return { delayMs: 0, result: problem.result };
  return done.length > 0 ? { delayMs: 0, result: "OK" } : { delayMs: 0 };
}
