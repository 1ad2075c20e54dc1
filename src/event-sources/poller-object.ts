import { DurableObject } from "cloudflare:workers";
import { TenantQueues } from "../sqs/queues";
import type { MappingRecord } from "./mapping";
import { settledState, upgradeRecord } from "./mapping";
import type { ShardStatus } from "./stream-poller-object";
import { SHARD_SYNC_INTERVAL_MS, shardStatuses, stopShards, syncShards } from "./stream-mapping";
import { ROUND_MS, runLanes } from "./sqs-lanes";

const KEY = "mapping";

/**
 * One per mapping (keyed `<tenant>/<uuid>`), whatever its source: the
 * mapping's settings and state, and its loop as a chain of alarms.
 * - SQS sources: each alarm runs the mapping's lanes for a round
 *   (src/event-sources/sqs-lanes.ts): batches back to back, lanes growing
 *   with the backlog up to the mapping's concurrency.
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

    const queues = new TenantQueues(this.env, record.tenantId);
    const end = await runLanes(
      { current: () => this.get(), report: (result) => this.#report(result) },
      queues,
      this.env.REGION,
      Date.now() + ROUND_MS,
    );

    // The mapping may have changed or gone while the lanes ran: apply only to what is stored now.
    const now = await this.get();
    if (!now) return;
    if (end.disable !== undefined && now.state === "Enabled") {
      await this.ctx.storage.put(KEY, { ...now, settings: { ...now.settings, enabled: false }, state: "Disabled", stateTransitionReason: end.disable, lastProcessingResult: end.disable });
      return;
    }
    const settledNow = settledState(now);
    if (settledNow !== now.state) await this.ctx.storage.put(KEY, { ...now, state: settledNow });
    if (settledNow === "Enabled") await this.ctx.storage.setAlarm(Date.now() + end.delayMs);
  }

  /** A batch's LastProcessingResult, kept when it changes. */
  async #report(result: string): Promise<void> {
    const now = await this.get();
    if (now && now.lastProcessingResult !== result) await this.ctx.storage.put(KEY, { ...now, lastProcessingResult: result });
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
}
