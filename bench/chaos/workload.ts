/**
 * The chaos and soak workload: one tenant with a function per path (sync,
 * async with retries + OnFailure queue + webhook OnSuccess, an SQS mapping
 * with a DLQ, a Kinesis mapping with bisect + OnFailure queue, a durable
 * workflow that suspends in a wait), and an open-loop load generator that
 * keeps, per path, what the platform accepted (the ledger the books are
 * checked against). The platform may be restarted under it: every call goes
 * to `target.platform` as it is at that moment.
 */
import { CreateEventSourceMappingCommand, CreateFunctionCommand, LambdaClient, PutFunctionEventInvokeConfigCommand } from "@aws-sdk/client-lambda";
import { CreateStreamCommand, KinesisClient, PutRecordsCommand, waitUntilStreamExists } from "@aws-sdk/client-kinesis";
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { createTenantWithKey, lambdaClient, type Platform, type TenantCredentials, untilActive } from "../../test/e2e/harness";
import { durableZip, FAILURE_MODES, type Mode, plainZip } from "./handlers";

const ROLE = "arn:aws:iam::123456789012:role/chaos";
const REQUEST_TIMEOUT_MS = 30_000;
/** Messages per SendMessageBatch and records per PutRecords of one load tick. */
const BATCH = 5;
export const DURABLE_WAIT_S = 3;
/** Function timeouts (s): a lease lives for its timeout plus the partition's 30 s grace. */
export const SHORT_TIMEOUT_S = 3;
export const LONG_TIMEOUT_S = 10;

export type Kind = "sync" | "async" | "sqs" | "kinesis" | "durable";
export const KINDS: Kind[] = ["sync", "async", "sqs", "kinesis", "durable"];
/** Share of load ticks per path. */
export const DEFAULT_MIX: Record<Kind, number> = { sync: 0.35, async: 0.25, sqs: 0.15, kinesis: 0.15, durable: 0.1 };

export class Target {
  #clients: { url: string; lambda: LambdaClient; sqs: SQSClient; kinesis: KinesisClient } | undefined;
  constructor(
    public platform: Platform,
    readonly creds: TenantCredentials,
  ) {}

  clients(): { lambda: LambdaClient; sqs: SQSClient; kinesis: KinesisClient } {
    if (this.#clients?.url !== this.platform.url) {
      const config = {
        endpoint: this.platform.url,
        region: "us-east-1",
        credentials: { accessKeyId: this.creds.accessKeyId, secretAccessKey: this.creds.secretAccessKey },
        maxAttempts: 1,
        // HTTP/1.1 for Kinesis too (its client defaults to HTTP/2, which wrangler dev does not speak).
        requestHandler: new NodeHttpHandler({ connectionTimeout: 10_000, requestTimeout: REQUEST_TIMEOUT_MS }),
      };
      this.#clients = { url: this.platform.url, lambda: lambdaClient(this.platform, this.creds), sqs: new SQSClient(config), kinesis: new KinesisClient(config) };
    }
    return this.#clients;
  }

  arn(service: "sqs" | "kinesis", name: string): string {
    return service === "sqs" ? `arn:aws:sqs:us-east-1:${this.creds.accountId}:${name}` : `arn:aws:kinesis:us-east-1:${this.creds.accountId}:stream/${name}`;
  }
}

/** What the platform accepted, per path. */
export interface Ledger {
  sync: Map<string, { mode: Mode; functionError: string | undefined }>;
  async: Map<string, { mode: Mode }>;
  sqs: Map<string, { poison: boolean }>;
  kinesis: Map<string, { poison: boolean; shardId: string; sequenceNumber: string }>;
  durable: Map<string, { arn: string }>;
  /** Calls the platform did not accept (errors, refused connections during restarts), per path. */
  refused: Record<Kind, number>;
  /** The first few reasons of refusals, per path (to tell a restart's refused connections from a bug). */
  refusalSamples: string[];
  /** Sync invoke latencies: [ms since the load began, ms]. */
  syncLatencies: [number, number][];
}

export function newLedger(): Ledger {
  return {
    sync: new Map(),
    async: new Map(),
    sqs: new Map(),
    kinesis: new Map(),
    durable: new Map(),
    refused: { sync: 0, async: 0, sqs: 0, kinesis: 0, durable: 0 },
    refusalSamples: [],
    syncLatencies: [],
  };
}

/** Creates the tenant, queues, stream, functions and mappings. */
export async function setUpWorkload(platform: Platform, collectorUrl: string): Promise<Target> {
  const creds = await createTenantWithKey(platform, "chaos");
  const target = new Target(platform, creds);
  const { lambda, sqs, kinesis } = target.clients();
  for (const name of ["async-failures", "work-dlq", "stream-failures"]) await sqs.send(new CreateQueueCommand({ QueueName: name }));
  await sqs.send(
    new CreateQueueCommand({
      QueueName: "work",
      Attributes: { VisibilityTimeout: "15", RedrivePolicy: JSON.stringify({ deadLetterTargetArn: target.arn("sqs", "work-dlq"), maxReceiveCount: 3 }) },
    }),
  );
  await kinesis.send(new CreateStreamCommand({ StreamName: "events", ShardCount: 2 }));
  await waitUntilStreamExists({ client: kinesis, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { StreamName: "events" });

  const zip = plainZip();
  const plain = (name: string, kind: string, timeout: number) =>
    new CreateFunctionCommand({
      FunctionName: name,
      Role: ROLE,
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      Timeout: timeout,
      Code: { ZipFile: zip },
      Environment: { Variables: { KIND: kind, COLLECTOR: collectorUrl } },
    });
  await lambda.send(plain("sync", "sync", SHORT_TIMEOUT_S));
  await lambda.send(plain("async", "async", SHORT_TIMEOUT_S));
  await lambda.send(plain("sqs", "sqs", LONG_TIMEOUT_S));
  await lambda.send(plain("kinesis", "kinesis", LONG_TIMEOUT_S));
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: "durable",
      Role: ROLE,
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      Timeout: LONG_TIMEOUT_S,
      Publish: true,
      Code: { ZipFile: await durableZip() },
      Environment: { Variables: { COLLECTOR: collectorUrl } },
      DurableConfig: { ExecutionTimeout: 900, RetentionPeriodInDays: 1 },
    }),
  );
  for (const name of ["sync", "async", "sqs", "kinesis", "durable"]) await untilActive(lambda, name);
  await lambda.send(
    new PutFunctionEventInvokeConfigCommand({
      FunctionName: "async",
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: target.arn("sqs", "async-failures") }, OnSuccess: { Destination: `${collectorUrl}/hook` } },
    }),
  );
  await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: "sqs",
      EventSourceArn: target.arn("sqs", "work"),
      BatchSize: 10,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    }),
  );
  await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: "kinesis",
      EventSourceArn: target.arn("kinesis", "events"),
      StartingPosition: "TRIM_HORIZON",
      BatchSize: 20,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: target.arn("sqs", "stream-failures") } },
    }),
  );
  return target;
}

export interface LoadOptions {
  /** Load ticks per second (a tick is one invoke, or one batch of 5 messages or records). */
  ratePerSecond: number;
  durationMs: number;
  mix?: Record<Kind, number>;
  /** Share of sync and async events that misbehave (throw, exit, crash, time out), and of messages and records that are poison. */
  failureShare: number;
  /** The misbehaviours a failing sync or async event picks from (default: all of FAILURE_MODES). */
  modes?: readonly Mode[];
  /** Ticks in flight at most; beyond it a tick is skipped and counted. */
  maxInFlight?: number;
  /** Stops early when it returns true. */
  stop?: () => boolean;
  /** Called when a tick starts. */
  onTick?: () => void;
}

let counter = 0;
const nextId = (kind: Kind) => `${kind}-${(counter++).toString(36)}`;

/** Runs the open-loop load; resolves when every tick it started has finished. Returns the ticks skipped for lack of room. */
export async function runLoad(target: Target, ledger: Ledger, options: LoadOptions): Promise<{ ticks: number; skipped: number }> {
  const mix = options.mix ?? DEFAULT_MIX;
  const total = KINDS.reduce((n, k) => n + mix[k], 0);
  const maxInFlight = options.maxInFlight ?? 64;
  const started = Date.now();
  const intervalMs = 1000 / options.ratePerSecond;
  const inFlight = new Set<Promise<void>>();
  let ticks = 0;
  let skipped = 0;
  for (let i = 0; ; i++) {
    const due = started + i * intervalMs;
    if (due - started >= options.durationMs || options.stop?.()) break;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (inFlight.size >= maxInFlight) {
      skipped += 1;
      continue;
    }
    let pick = Math.random() * total;
    const kind = KINDS.find((k) => (pick -= mix[k]) < 0) ?? "sync";
    ticks += 1;
    options.onTick?.();
    const tick = runTick(target, ledger, kind, options.failureShare, started, options.modes ?? FAILURE_MODES).catch((err: unknown) => {
      ledger.refused[kind] += 1;
      if (ledger.refusalSamples.length < 50) ledger.refusalSamples.push(`${kind}: ${err instanceof Error ? `${err.message} ${(err.cause as Error | undefined)?.message ?? ""}` : String(err)}`);
    });
    inFlight.add(tick);
    void tick.finally(() => inFlight.delete(tick));
  }
  await Promise.all(inFlight);
  return { ticks, skipped };
}

function pickMode(failureShare: number, modes: readonly Mode[]): Mode {
  if (Math.random() >= failureShare) return "ok";
  return modes[Math.floor(Math.random() * modes.length)] ?? "throw";
}

async function invoke(target: Target, name: string, payload: unknown, event: boolean, query = ""): Promise<Response> {
  const res = await fetch(`${target.platform.url}/2015-03-31/functions/${name}/invocations${query}`, {
    method: "POST",
    headers: { authorization: `Bearer ${target.creds.token}`, "content-type": "application/json", ...(event ? { "x-amz-invocation-type": "Event" } : {}) },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${name}: HTTP ${res.status} ${text.slice(0, 200)}`);
  return res;
}

async function runTick(target: Target, ledger: Ledger, kind: Kind, failureShare: number, loadStarted: number, modes: readonly Mode[]): Promise<void> {
  switch (kind) {
    case "sync": {
      const id = nextId(kind);
      const mode = pickMode(failureShare, modes);
      const t0 = Date.now();
      const res = await invoke(target, "sync", { id, mode }, false);
      if (res.status !== 200) throw new Error(`sync: HTTP ${res.status}`);
      ledger.sync.set(id, { mode, functionError: res.headers.get("x-amz-function-error") ?? undefined });
      if (mode === "ok") ledger.syncLatencies.push([t0 - loadStarted, Date.now() - t0]);
      return;
    }
    case "async": {
      const id = nextId(kind);
      const mode = pickMode(failureShare, modes);
      const res = await invoke(target, "async", { id, mode }, true);
      if (res.status !== 202) throw new Error(`async: HTTP ${res.status}`);
      ledger.async.set(id, { mode });
      return;
    }
    case "durable": {
      const id = nextId(kind);
      const res = await invoke(target, "durable", { id, waitSeconds: DURABLE_WAIT_S }, true, "?Qualifier=1");
      const arn = res.headers.get("x-amz-durable-execution-arn");
      if (res.status !== 202 || !arn) throw new Error(`durable: HTTP ${res.status}`);
      ledger.durable.set(id, { arn });
      return;
    }
    case "sqs": {
      const bodies = Array.from({ length: BATCH }, () => ({ id: nextId(kind), poison: Math.random() < failureShare / 2 }));
      const out = await target.clients().sqs.send(
        new SendMessageBatchCommand({ QueueUrl: `${target.platform.url}/${target.creds.accountId}/work`, Entries: bodies.map((b, i) => ({ Id: `m${i}`, MessageBody: JSON.stringify(b) })) }),
      );
      for (const ok of out.Successful ?? []) {
        const body = bodies[Number(ok.Id?.slice(1))];
        if (body) ledger.sqs.set(body.id, { poison: body.poison });
      }
      ledger.refused.sqs += out.Failed?.length ?? 0;
      return;
    }
    case "kinesis": {
      const records = Array.from({ length: BATCH }, () => ({ id: nextId(kind), poison: Math.random() < failureShare / 4 }));
      const out = await target.clients().kinesis.send(
        new PutRecordsCommand({ StreamName: "events", Records: records.map((r) => ({ Data: Buffer.from(JSON.stringify(r)), PartitionKey: r.id })) }),
      );
      (out.Records ?? []).forEach((entry, i) => {
        const record = records[i];
        if (!record) return;
        if (entry.SequenceNumber && entry.ShardId) ledger.kinesis.set(record.id, { poison: record.poison, shardId: entry.ShardId, sequenceNumber: entry.SequenceNumber });
        else ledger.refused.kinesis += 1;
      });
      return;
    }
  }
}
