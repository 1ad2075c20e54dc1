/**
 * The books of a chaos run: every event the platform accepted is either
 * processed (reported by its handler to the collector), or dead-lettered
 * with a record (an OnFailure record, a DLQ message, a stream on-failure
 * record naming it, a failed durable execution, an error answered to a sync
 * caller); anything else is LOST. Reprocessing is counted, not refused, on
 * the at-least-once paths.
 */
import { GetDurableExecutionCommand, GetDurableExecutionHistoryCommand } from "@aws-sdk/client-lambda";
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { adminFetch } from "../../test/e2e/harness";
import type { Collector } from "./collector";
import type { Kind, Ledger, Target } from "./workload";

/** The paths of the books: the load's, and the async path's webhook (OnSuccess http destination) deliveries. */
export type BookKind = Kind | "webhook";

export interface Row {
  kind: BookKind;
  accepted: number;
  processedOnce: number;
  processedMore: number;
  deadLettered: number;
  lost: number;
  /** Handler reports of ids the platform never acknowledged (the answer was cut off by a restart): allowed. */
  unacknowledgedRuns: number;
}

/** What the failure destinations hold so far, drained into this process. */
export class FailureSinks {
  /** async event id → OnFailure records. */
  readonly asyncFailures = new Map<string, number>();
  /** SQS message id (ours) → times found in the DLQ. */
  readonly dlq = new Map<string, number>();
  /** Stream on-failure records: shard and sequence range. */
  readonly streamFailures: { shardId: string; start: bigint; end: bigint }[] = [];
  /** async event id → DestinationDeliveryFailed failed events of the async function (its webhook record kept as failed). */
  readonly webhookFailures = new Map<string, number>();
  /** Durable execution id → final status. */
  readonly durableStatus = new Map<string, string>();

  async drain(target: Target): Promise<void> {
    await this.#drainQueue(target, "async-failures", (body) => {
      const id = String((body as { requestPayload?: { id?: unknown } }).requestPayload?.id ?? "?");
      this.asyncFailures.set(id, (this.asyncFailures.get(id) ?? 0) + 1);
    });
    await this.#drainQueue(target, "work-dlq", (body) => {
      const id = String((body as { id?: unknown }).id ?? "?");
      this.dlq.set(id, (this.dlq.get(id) ?? 0) + 1);
    });
    await this.#drainQueue(target, "stream-failures", (body) => {
      const info = (body as { KinesisBatchInfo?: { shardId: string; startSequenceNumber: string; endSequenceNumber: string } }).KinesisBatchInfo;
      if (info) this.streamFailures.push({ shardId: info.shardId, start: BigInt(info.startSequenceNumber), end: BigInt(info.endSequenceNumber) });
    });
  }

  /** Reads the async function's failed events whose webhook delivery failed (a listing: the whole list each time). */
  async readWebhookFailures(target: Target): Promise<void> {
    this.webhookFailures.clear();
    let marker: string | undefined;
    do {
      const query = marker === undefined ? "" : `?Marker=${encodeURIComponent(marker)}`;
      const res = await fetch(`${target.platform.url}/cellfn/v1/functions/async/failed-events${query}`, { headers: { authorization: `Bearer ${target.creds.token}` } });
      if (res.status !== 200) throw new Error(`failed-events: HTTP ${res.status}`);
      const page = (await res.json()) as { FailedEvents: { Condition: string; Record?: { requestPayload?: { id?: unknown } } }[]; NextMarker?: string };
      for (const e of page.FailedEvents) {
        if (e.Condition !== "DestinationDeliveryFailed") continue;
        const id = String(e.Record?.requestPayload?.id ?? "?");
        this.webhookFailures.set(id, (this.webhookFailures.get(id) ?? 0) + 1);
      }
      marker = page.NextMarker;
    } while (marker !== undefined);
  }

  /** Asks for the status of every durable execution not yet known to have ended. */
  async refreshDurable(target: Target, ledger: Ledger): Promise<void> {
    const open = [...ledger.durable].filter(([id]) => !TERMINAL.has(this.durableStatus.get(id) ?? ""));
    for (let i = 0; i < open.length; i += 8) {
      await Promise.all(
        open.slice(i, i + 8).map(async ([id, { arn }]) => {
          const got = await target.clients().lambda.send(new GetDurableExecutionCommand({ DurableExecutionArn: arn }));
          this.durableStatus.set(id, got.Status ?? "?");
        }),
      );
    }
  }

  streamCovers(shardId: string, sequenceNumber: string): boolean {
    const seq = BigInt(sequenceNumber);
    return this.streamFailures.some((f) => f.shardId === shardId && f.start <= seq && seq <= f.end);
  }

  async #drainQueue(target: Target, name: string, take: (body: unknown) => void): Promise<void> {
    const { sqs } = target.clients();
    const QueueUrl = `${target.platform.url}/${target.creds.accountId}/${name}`;
    for (;;) {
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
      const messages = got.Messages ?? [];
      if (messages.length === 0) return;
      for (const m of messages) {
        try {
          take(JSON.parse(m.Body ?? "null"));
        } catch {
          take(null);
        }
      }
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })) }));
    }
  }
}

const TERMINAL = new Set(["SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"]);

/** The books as they stand (a LOST count before settling is what is still outstanding). */
export function computeBooks(ledger: Ledger, collector: Collector, sinks: FailureSinks): { rows: Row[]; durableStepsRepeated: number; anomalies: string[] } {
  const anomalies: string[] = [];
  const row = (kind: BookKind, accepted: number): Row => ({ kind, accepted, processedOnce: 0, processedMore: 0, deadLettered: 0, lost: 0, unacknowledgedRuns: 0 });
  const processed = (r: Row, times: number) => (times === 1 ? (r.processedOnce += 1) : (r.processedMore += 1));

  const sync = row("sync", ledger.sync.size);
  for (const [id, { mode, functionError }] of ledger.sync) {
    const times = collector.count("sync", id);
    if (times > 0) processed(sync, times);
    else if (functionError) sync.deadLettered += 1; // the caller got the error: its record
    else {
      sync.lost += 1;
      anomalies.push(`sync ${id} (${mode}) answered 200 without an error, but its handler never reported`);
    }
    if (mode !== "ok" && !functionError) anomalies.push(`sync ${id} was asked to ${mode} but the caller saw no FunctionError`);
  }

  const async = row("async", ledger.async.size);
  for (const [id] of ledger.async) {
    const times = collector.count("async", id);
    if (times > 0) processed(async, times);
    else if ((sinks.asyncFailures.get(id) ?? 0) > 0) async.deadLettered += 1;
    else {
      async.lost += 1;
      anomalies.push(`async ${id} (${ledger.async.get(id)?.mode}): no run reported, no OnFailure record`);
    }
  }

  // Every async event that succeeded (its handler reported, no OnFailure record) owes one OnSuccess record to the webhook.
  const owed = [...ledger.async.keys()].filter((id) => collector.count("async", id) > 0 && (sinks.asyncFailures.get(id) ?? 0) === 0);
  const webhook = row("webhook", owed.length);
  for (const id of owed) {
    const times = collector.count("webhook", id);
    if (times > 0) processed(webhook, times);
    else if ((sinks.webhookFailures.get(id) ?? 0) > 0) webhook.deadLettered += 1;
    else {
      webhook.lost += 1;
      anomalies.push(`webhook for async ${id}: its handler ran, no OnFailure record, yet no delivery answered 2xx and no DestinationDeliveryFailed record`);
    }
  }

  const sqs = row("sqs", ledger.sqs.size);
  for (const [id, { poison }] of ledger.sqs) {
    const times = poison ? 0 : collector.count("sqs", id);
    if (times > 0) processed(sqs, times);
    else if ((sinks.dlq.get(id) ?? 0) > 0) sqs.deadLettered += 1;
    else {
      sqs.lost += 1;
      anomalies.push(`sqs ${id}${poison ? " (poison)" : ""}: not processed, not in the DLQ`);
    }
  }

  const kinesis = row("kinesis", ledger.kinesis.size);
  for (const [id, { poison, shardId, sequenceNumber }] of ledger.kinesis) {
    const times = poison ? 0 : collector.count("kinesis", id);
    if (times > 0) processed(kinesis, times);
    else if (sinks.streamCovers(shardId, sequenceNumber)) kinesis.deadLettered += 1;
    else {
      kinesis.lost += 1;
      anomalies.push(`kinesis ${id}${poison ? " (poison)" : ""} ${shardId}/${sequenceNumber}: not processed, no on-failure record`);
    }
  }

  const durable = row("durable", ledger.durable.size);
  let durableStepsRepeated = 0;
  for (const [id] of ledger.durable) {
    const status = sinks.durableStatus.get(id) ?? "?";
    const a = collector.count("durable", `${id}:a`);
    const b = collector.count("durable", `${id}:b`);
    durableStepsRepeated += Math.max(0, a - 1) + Math.max(0, b - 1);
    if (status === "SUCCEEDED" && a >= 1 && b >= 1) processed(durable, Math.max(a, b));
    else if (status === "SUCCEEDED") {
      durable.lost += 1;
      anomalies.push(`durable ${id} SUCCEEDED but its steps reported a=${a} b=${b}`);
    } else if (TERMINAL.has(status)) durable.deadLettered += 1; // its status and history are the record
    else {
      durable.lost += 1;
      anomalies.push(`durable ${id} still ${status} (a=${a} b=${b}): ${ledger.durable.get(id)?.arn}`);
    }
  }

  const rows = [sync, async, webhook, sqs, kinesis, durable];
  const accepted: Record<BookKind, Map<string, unknown>> = { sync: ledger.sync, async: ledger.async, webhook: ledger.async, sqs: ledger.sqs, kinesis: ledger.kinesis, durable: ledger.durable };
  for (const r of rows) {
    for (const id of collector.marks.get(r.kind)?.keys() ?? []) {
      const key = r.kind === "durable" ? id.replace(/:[ab]$/, "") : id;
      if (!accepted[r.kind].has(key)) r.unacknowledgedRuns += 1;
    }
  }
  return { rows, durableStepsRepeated, anomalies };
}

/**
 * Why durable steps ran more than once: the failed invocations (InvocationCompleted
 * with an error, by ErrorType) in the history of every execution that repeated a
 * step. A step runs again when its invocation ended (timed out, crashed, was lost
 * with a restart) after the step ran and before its SUCCEED checkpoint committed.
 */
export async function durableRepeatCauses(target: Target, ledger: Ledger, collector: Collector): Promise<Record<string, number>> {
  const causes: Record<string, number> = {};
  for (const [id, { arn }] of ledger.durable) {
    if (collector.count("durable", `${id}:a`) <= 1 && collector.count("durable", `${id}:b`) <= 1) continue;
    let marker: string | undefined;
    do {
      const page = await target.clients().lambda.send(new GetDurableExecutionHistoryCommand({ DurableExecutionArn: arn, IncludeExecutionData: true, Marker: marker }));
      for (const e of page.Events ?? []) {
        const type = e.InvocationCompletedDetails?.Error?.Payload?.ErrorType;
        if (type) causes[type] = (causes[type] ?? 0) + 1;
      }
      marker = page.NextMarker;
    } while (marker);
  }
  return causes;
}

/** Waits until nothing accepted is outstanding (or the deadline); returns how long it took. */
export async function settle(target: Target, ledger: Ledger, collector: Collector, sinks: FailureSinks, timeoutMs: number): Promise<{ settledMs: number; settled: boolean }> {
  const started = Date.now();
  for (;;) {
    try {
      await sinks.drain(target);
      await sinks.readWebhookFailures(target);
      await sinks.refreshDurable(target, ledger);
      const { rows } = computeBooks(ledger, collector, sinks);
      const outstanding = rows.reduce((n, r) => n + r.lost, 0);
      const work = await queueDepth(target, "work");
      if (outstanding === 0 && work === 0) return { settledMs: Date.now() - started, settled: true };
    } catch {
      // the platform may still be coming up: try again
    }
    if (Date.now() - started > timeoutMs) return { settledMs: Date.now() - started, settled: false };
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

export async function queueDepth(target: Target, name: string): Promise<number> {
  const out = await target.clients().sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: `${target.platform.url}/${target.creds.accountId}/${name}`,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"],
    }),
  );
  const a = out.Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
}

export interface LeaseReading {
  tenantInFlight: number;
  leasesInFlight: number;
  busyEnvironments: number;
}

export async function readLeases(target: Target): Promise<LeaseReading> {
  const res = await adminFetch<{ tenantInFlight: number; leasesInFlight: number; functions: { busyEnvironments: number }[] }>(
    target.platform,
    "GET",
    `/admin/tenants/${encodeURIComponent(target.creds.tenantId)}/leases`,
  );
  if (res.status !== 200) throw new Error(`GET leases: HTTP ${res.status} ${res.text}`);
  return {
    tenantInFlight: res.body.tenantInFlight,
    leasesInFlight: res.body.leasesInFlight,
    busyEnvironments: res.body.functions.reduce((n, f) => n + f.busyEnvironments, 0),
  };
}

/**
 * Leases right after settling, and once every lease a crash may have left
 * could have expired (the longest function timeout + the partition's 30 s
 * grace): the second reading must be all zeros.
 */
export async function leasesAfterSettling(target: Target, maxLeaseLifetimeMs: number): Promise<{ atSettle: LeaseReading; final: LeaseReading; waitedMs: number }> {
  const atSettle = await readLeases(target);
  const started = Date.now();
  let final = atSettle;
  while (final.tenantInFlight + final.leasesInFlight + final.busyEnvironments > 0 && Date.now() - started < maxLeaseLifetimeMs) {
    await new Promise((r) => setTimeout(r, 2_000));
    final = await readLeases(target);
  }
  return { atSettle, final, waitedMs: Date.now() - started };
}

export function formatBooks(rows: Row[]): string {
  const header = ["path", "accepted", "processed once", "processed >1", "dead-lettered", "LOST", "runs w/o ack"];
  const lines = rows.map((r) => [r.kind, r.accepted, r.processedOnce, r.processedMore, r.deadLettered, r.lost, r.unacknowledgedRuns].map(String));
  const total = ["total", ...[1, 2, 3, 4, 5, 6].map((i) => String(lines.reduce((n, l) => n + Number(l[i]), 0)))];
  const all = [header, ...lines, total];
  const widths = header.map((_, i) => Math.max(...all.map((l) => (l[i] ?? "").length)));
  return all.map((l) => l.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ")).join("\n");
}

