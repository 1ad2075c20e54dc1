import { DurableObject } from "cloudflare:workers";
import { maybeResetObject } from "../chaos/faults";
import { exports } from "cloudflare:workers";
import { StreamShard } from "../kinesis/shard-object";
import { recordIteratorAge } from "../metrics/record-events";
import { SYNC_PAYLOAD_LIMIT_BYTES } from "../invoke/routes";
import { QueueSendRefused, sendMessageToQueueArn } from "../sqs/send-to-arn";
import { compileFilters } from "./filter";
import type { FailedBatchInfo } from "./kinesis-event";
import { eventBytes, kinesisRecord, onFailureRecord } from "./kinesis-event";
import type { MappingSettings, StreamSettings } from "./settings";
import type { BatchContext, BatchMember, BatchRun, ShardAssignment } from "./stream-batch";
import { filterable, invokeWindowFinal, runBatch } from "./stream-batch";
import type { FailureCondition, FailureDecision, PendingBatch, Round, StreamRules } from "./stream-rules";
import { afterFailure, checkpointOf, planRound, retryDelayMs, roundDone, windowOpen } from "./stream-rules";
import { rulesOf } from "./stream-settings";
import type { OpenWindow } from "./tumbling-window";
import { afterBatch, afterFinal, openWindow, sameWindowCount, stateTooLargeMessage, windowEnded, windowOverheadBytes } from "./tumbling-window";

/** How often a caught-up shard is read again (Lambda polls each shard about once a second). */
export const IDLE_POLL_MS = 250;
/** The wait after a batch could not be invoked at all (throttled, function missing). */
const NOT_RUN_BACKOFF_MS = 1_000;
const ERROR_BACKOFF_MS = 5_000;

/** A pending batch and when its lane may run it again (after a failure's back-off). */
type LaneBatch = PendingBatch & { notBeforeMs?: number };

type RoundOf<B> = Omit<Round, "lanes"> & { lanes: B[][] };

interface Cursor {
  /** The next shard position to read when no round is pending. */
  checkpoint: number;
  round: RoundOf<LaneBatch> | null;
  /** The shard's open tumbling window and its state (tumbling-window.ts), stored with the checkpoint. */
  window?: OpenWindow;
}

/** What the poller has seen: for GetEventSourceMapping's LastProcessingResult, IteratorAge and the tests. */
export interface ShardStatus {
  checkpoint: number | null;
  lastProcessingResult: string | null;
  /** Age of the last record of the last batch sent (0 when caught up), as Lambda's IteratorAge metric. */
  iteratorAgeMs: number;
  invocations: number;
  failedInvocations: number;
  recordsSucceeded: number;
  batchesDiscarded: number;
  /** Discarded batches whose on-failure record could not be delivered (logged, counted). */
  destinationFailures: number;
}

export interface ShardConfig {
  assignment: ShardAssignment;
  settings: MappingSettings & { stream: StreamSettings };
  enabled: boolean;
}

const EMPTY_STATUS: ShardStatus = {
  checkpoint: null,
  lastProcessingResult: null,
  iteratorAgeMs: 0,
  invocations: 0,
  failedInvocations: 0,
  recordsSucceeded: 0,
  batchesDiscarded: 0,
  destinationFailures: 0,
};

/**
 * One per stream mapping and shard (keyed `<tenant>/<uuid>/<shardIndex>`):
 * the shard's checkpoint and pending round, and its poll loop as a chain of
 * alarms. The round (stream-rules.ts) is stored after every step, so a
 * restart resumes exactly where it was: no record skipped, and a record
 * invoked again only if the step that ran it had not been stored.
 */
export class StreamPoller extends DurableObject<Env> {
  static of(env: Env, tenantId: string, uuid: string, shardIndex: number): DurableObjectStub<StreamPoller> {
    return env.STREAM_POLLER.getByName(`${tenantId}/${uuid}/${shardIndex}`);
  }

  /** Takes the mapping's current settings; the first call fixes the starting position. */
  async sync(config: ShardConfig): Promise<ShardStatus> {
    await this.ctx.storage.put("config", config);
    let cursor = await this.ctx.storage.get<Cursor>("cursor");
    if (!cursor) {
      const start = await this.#startingPosition(config);
      if (start === null) return { ...(await this.status()), lastProcessingResult: "PROBLEM: The event source stream does not exist." };
      cursor = { checkpoint: start, round: null };
      await this.ctx.storage.put("cursor", cursor);
    }
    if (!config.enabled) await this.ctx.storage.deleteAlarm();
    else if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
    return this.status();
  }

  async status(): Promise<ShardStatus> {
    const status = (await this.ctx.storage.get<ShardStatus>("status")) ?? EMPTY_STATUS;
    const cursor = await this.ctx.storage.get<Cursor>("cursor");
    return { ...status, checkpoint: cursor ? (cursor.round ? checkpointOf(cursor.round) : cursor.checkpoint) : null };
  }

  /** The mapping is gone: forget everything. */
  async stop(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  override async alarm(): Promise<void> {
    const config = await this.ctx.storage.get<ShardConfig>("config");
    const cursor = await this.ctx.storage.get<Cursor>("cursor");
    if (!config || !cursor || !config.enabled) return;
    const status = { ...((await this.ctx.storage.get<ShardStatus>("status")) ?? EMPTY_STATUS) };
    let delayMs: number;
    try {
      delayMs = await this.#step(config, cursor, status);
    } catch (err) {
      console.error(`stream mapping ${config.assignment.uuid} ${config.assignment.shardId}: step failed`, err);
      delayMs = ERROR_BACKOFF_MS;
    }
    await this.ctx.storage.put("status", status);
    // Only while the mapping still wants this shard polled (stop() or a disable may have come meanwhile).
    const now = await this.ctx.storage.get<ShardConfig>("config");
    if (now?.enabled) await this.ctx.storage.setAlarm(Date.now() + delayMs);
  }

  /** One step: plan a round if none is pending, then run each lane's head batch once. Returns the wait before the next step. */
  async #step(config: ShardConfig, cursor: Cursor, status: ShardStatus): Promise<number> {
    const a = config.assignment;
    const s = config.settings;
    const rules = rulesOf(s);
    const matches = compileFilters(s.filters.map((f) => f.Pattern), "kinesis");
    // The function's role is each record's invokeIdentityArn: asked once per step that has records.
    const eventContext = async () => {
      const role = await exports.SqsBatchRunner.role({
        tenantId: a.tenantId,
        functionName: a.functionName,
        ...(a.qualifier === undefined ? {} : { qualifier: a.qualifier }),
      });
      return { shardId: a.shardId, streamArn: a.streamArn, region: a.region, roleArn: role ?? "" };
    };
    let event: Awaited<ReturnType<typeof eventContext>> | undefined;
    const windowS = s.stream.tumblingWindowInSeconds;
    // A window's final invocation comes before anything else (also when the mapping dropped its window).
    if (cursor.window && windowS === 0) cursor.window.closing ??= "end";
    if (cursor.window?.closing) return this.#closeWindow(cursor, cursor.window, { assignment: a, event: await eventContext() }, status);

    if (!cursor.round) {
      const shard = StreamShard.of(this.env, a.tenantId, a.streamId, a.shardIndex);
      const readAtMs = Date.now();
      const read = await shard.read(a.streamId, cursor.checkpoint, rules.batchSize * rules.parallelizationFactor);
      if (!read) {
        status.lastProcessingResult = "PROBLEM: The event source stream does not exist.";
        return ERROR_BACKOFF_MS;
      }
      if (cursor.window && windowEnded(cursor.window, read.records[0]?.arrivalMs, readAtMs)) {
        cursor.window.closing = "end";
        await this.ctx.storage.put("cursor", cursor);
        return 0;
      }
      const first = read.records[0];
      if (!first) {
        // Caught up: expired records before the checkpoint are skipped over.
        cursor.checkpoint = read.nextPosition;
        await this.ctx.storage.put("cursor", cursor);
        status.iteratorAgeMs = 0;
        return IDLE_POLL_MS;
      }
      const now = Date.now();
      if (windowOpen(read.records.length, rules.batchSize, s.maximumBatchingWindowInSeconds, first.arrivalMs, now)) {
        return Math.min(IDLE_POLL_MS, first.arrivalMs + s.maximumBatchingWindowInSeconds * 1000 - now);
      }
      const context = await eventContext();
      event = context;
      // In a tumbling window a round (so each batch) holds the records of one window.
      const records = windowS > 0 ? read.records.slice(0, sameWindowCount(read.records.map((r) => r.arrivalMs), windowS)) : read.records;
      const window = windowS > 0 ? (cursor.window ?? openWindow(first.arrivalMs, windowS)) : undefined;
      const planned = records.map((r) => ({
        position: r.position,
        partitionKey: r.partitionKey,
        eventBytes: eventBytes(kinesisRecord(r, context)),
        matches: matches(filterable(r.data)),
      }));
      const limit = SYNC_PAYLOAD_LIMIT_BYTES - (window ? windowOverheadBytes(window, context) : 0);
      const round = planRound(cursor.checkpoint, planned, rules, limit);
      if (!round) return IDLE_POLL_MS;
      cursor.round = round;
      // The window opens with the first batch sent in it (records the filters drop open none).
      if (window && round.lanes.some((lane) => lane.length > 0)) cursor.window = window;
      await this.ctx.storage.put("cursor", cursor);
    }

    const round = cursor.round;
    event ??= await eventContext();
    const ctx: BatchContext = {
      assignment: a,
      batchSize: rules.batchSize,
      lanes: rules.parallelizationFactor,
      reportBatchItemFailures: s.reportBatchItemFailures,
      maximumRecordAgeMs: rules.maximumRecordAgeInSeconds === -1 ? null : rules.maximumRecordAgeInSeconds * 1000,
      matches,
      event,
      ...(cursor.window ? { window: cursor.window } : {}),
    };
    const now = Date.now();
    const due = round.lanes.map((lane): LaneBatch | undefined => {
      const head = lane[0];
      return head !== undefined && (head.notBeforeMs ?? 0) <= now ? head : undefined;
    });
    const runs = await Promise.all(due.map(async (head) => (head ? runBatch(this.env, head, ctx) : null)));
    // Test-only (src/chaos/faults.ts): the batches ran, their outcome is not yet checkpointed.
    maybeResetObject(this.ctx, this.env, "stream-poll");
    for (let lane = 0; lane < runs.length; lane++) {
      const result = runs[lane];
      const head = due[lane];
      const queue = round.lanes[lane];
      if (!result || !head || !queue) continue;
      if (cursor.window && (result.run.kind === "ok" || result.run.kind === "failed") && result.run.state !== undefined) {
        const outcome = afterBatch(cursor.window, result.run.state);
        if (outcome.kind === "terminate-early") {
          // The window's final invocation runs first; this batch then runs again with a fresh state.
          cursor.window = outcome.open;
          status.invocations++;
          continue;
        }
        if (outcome.kind === "too-large") {
          const run: BatchRun = { kind: "failed", members: result.run.members, retryFrom: 0, partial: false, response: result.run.response };
          queue.splice(0, 1, ...(await this.#settle(head, run, config, rules, status)));
          status.lastProcessingResult = stateTooLargeMessage(outcome.bytes);
          continue;
        }
        cursor.window = outcome.open;
      }
      const rest: LaneBatch[] = result.coveredTo < head.to ? [{ ...head, from: result.coveredTo }] : [];
      const covered = { ...head, to: result.coveredTo };
      const replacement = await this.#settle(covered, result.run, config, rules, status);
      queue.splice(0, 1, ...replacement, ...rest);
    }
    if (roundDone(round)) cursor = { ...cursor, checkpoint: round.end, round: null };
    await this.ctx.storage.put("cursor", cursor);
    if (!cursor.round) return 0;
    // A lane's head runs when its back-off ends (at once without one); an empty lane waits for nothing.
    const waits = cursor.round.lanes.flatMap((lane) => (lane[0] === undefined ? [] : [lane[0].notBeforeMs ?? 0]));
    return waits.length === 0 ? 0 : Math.max(0, Math.min(...waits) - Date.now());
  }

  /**
   * The open window's final invocation; the next step waits while it fails
   * (Lambda suspends the shard until it succeeds). A window in which no
   * invocation succeeded (its batches discarded) has nothing to report: it
   * closes without one.
   */
  async #closeWindow(cursor: Cursor, window: OpenWindow, ctx: Pick<BatchContext, "assignment" | "event">, status: ShardStatus): Promise<number> {
    const result = window.invocations === 0 ? ({ kind: "ok" } as const) : await invokeWindowFinal(window, ctx);
    if (result.kind === "not-run") {
      status.lastProcessingResult = result.reason;
      return NOT_RUN_BACKOFF_MS;
    }
    if (window.invocations > 0) status.invocations++;
    if (result.kind === "failed") {
      status.failedInvocations++;
      status.lastProcessingResult = result.reason;
      return NOT_RUN_BACKOFF_MS;
    }
    status.lastProcessingResult = "OK";
    const next = afterFinal(window);
    if (next) cursor.window = next;
    else delete cursor.window;
    await this.ctx.storage.put("cursor", cursor);
    return 0;
  }

  /** The age of the batch's last record as the function got it: the shard's status and Lambda's IteratorAge metric. */
  #iteratorAge(a: ShardAssignment, run: Extract<BatchRun, { kind: "ok" | "failed" }>, now: number, status: ShardStatus): void {
    status.iteratorAgeMs = now - (run.members[run.members.length - 1]?.arrivalMs ?? now);
    const metrics = { tenantId: a.tenantId, functionName: a.functionName, qualifier: a.qualifier, executedVersion: run.response.executedVersion };
    recordIteratorAge(this.env, metrics, status.iteratorAgeMs, (p) => this.ctx.waitUntil(p));
  }

  /** What replaces a lane's head batch after it ran. */
  async #settle(batch: LaneBatch, run: BatchRun, config: ShardConfig, rules: StreamRules, status: ShardStatus): Promise<LaneBatch[]> {
    const now = Date.now();
    switch (run.kind) {
      case "empty":
        return [];
      case "aged": {
        // Lambda skips records older than MaximumRecordAgeInSeconds without invoking (RecordAgeExceeded).
        const end = (run.members[run.members.length - 1]?.position ?? batch.from) + 1;
        await this.#discard("RecordAgeExceeded", { ...batch, to: end }, run.members, undefined, config, status, now);
        return end < batch.to ? [{ ...batch, from: end }] : [];
      }
      case "not-run":
        status.lastProcessingResult = run.reason;
        return [{ ...batch, notBeforeMs: now + NOT_RUN_BACKOFF_MS }];
      case "ok": {
        status.invocations++;
        status.recordsSucceeded += run.members.length;
        status.lastProcessingResult = "OK";
        this.#iteratorAge(config.assignment, run, now, status);
        return [];
      }
      case "failed": {
        status.invocations++;
        status.failedInvocations++;
        status.lastProcessingResult = "PROBLEM: Function call failed";
        this.#iteratorAge(config.assignment, run, now, status);
        status.recordsSucceeded += run.retryFrom;
        const decision: FailureDecision = afterFailure(
          batch,
          { positions: run.members.map((m) => m.position), arrivalsMs: run.members.map((m) => m.arrivalMs), retryFrom: run.retryFrom, partial: run.partial },
          rules,
          now,
        );
        if (decision.kind === "retry") {
          return decision.batches.map((b) => ({ ...b, notBeforeMs: b.retries > batch.retries ? now + retryDelayMs(b.retries) : now }));
        }
        const left = run.members.filter((m) => m.position >= decision.batch.from);
        await this.#discard(decision.condition, decision.batch, left, run.response, config, status, now);
        return [];
      }
    }
  }

  /** Gives up on records: their batch info goes to the OnFailure destination, if any. */
  async #discard(
    condition: FailureCondition,
    batch: PendingBatch,
    members: BatchMember[],
    response: FailedBatchInfo["response"],
    config: ShardConfig,
    status: ShardStatus,
    now: number,
  ) {
    status.batchesDiscarded++;
    const a = config.assignment;
    const records = members.map((m) => ({ sequenceNumber: m.sequenceNumber, arrivalMs: m.arrivalMs }));
    const destination = config.settings.stream.onFailure;
    const what = `${records.length} records from ${records[0]?.sequenceNumber ?? "?"} (${condition})`;
    if (destination === undefined) {
      console.warn(`stream mapping ${a.uuid} ${a.shardId}: discarded ${what}; no OnFailure destination`);
      return;
    }
    const body = onFailureRecord({
      requestId: crypto.randomUUID(),
      functionArn: a.functionArn,
      condition,
      approximateInvokeCount: batch.invocations,
      ...(response === undefined ? {} : { response }),
      shardId: a.shardId,
      streamArn: a.streamArn,
      records,
      nowMs: now,
    });
    try {
      await sendMessageToQueueArn(this.env, a.tenantId, destination, JSON.stringify(body));
    } catch (err) {
      // A destination that can never take it (queue deleted since): counted and logged, the shard moves on as Lambda's does.
      if (!(err instanceof QueueSendRefused)) throw err;
      status.destinationFailures++;
      status.lastProcessingResult = `PROBLEM: OnFailure destination refused the record: ${err.message}`;
      console.error(`stream mapping ${a.uuid} ${a.shardId}: on-failure record for ${what} not delivered: ${err.message}`);
    }
  }

  async #startingPosition(config: ShardConfig): Promise<number | null> {
    const a = config.assignment;
    const s = config.settings.stream;
    if (s.startingPosition === "TRIM_HORIZON") return 0;
    const shard = StreamShard.of(this.env, a.tenantId, a.streamId, a.shardIndex);
    const at = await shard.position(
      a.streamId,
      s.startingPosition === "LATEST" ? { latest: true } : { timestampMs: (s.startingPositionTimestamp ?? 0) * 1000 },
    );
    return at?.position ?? null;
  }
}
