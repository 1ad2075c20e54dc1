/**
 * `npm run bench:queues`: SQS queues and event source mappings on this
 * machine, over loopback, with the real @aws-sdk/client-sqs and
 * @aws-sdk/client-lambda.
 *
 * Starts cellfn (test/e2e/harness.ts: `wrangler dev`, fresh state,
 * ALLOW_PRIVATE_EGRESS=true) and a receiver on 127.0.0.1 in this process.
 * The function's first statement POSTs the bodies of its batch to the
 * receiver, which notes when each message's handler started (this process's
 * clock, the same one that timed the send); then it returns, and the mapping
 * deletes the batch.
 *
 * For each BatchSize (1 and 10; one queue and mapping each, window 0,
 * ScalingConfig.MaximumConcurrency BENCH_QUEUES_CONCURRENCY):
 *   steady      open loop: SendMessage at BENCH_QUEUES_RATE messages/s for
 *               BENCH_QUEUES_STEADY_S s; latency send → handler start, p50/p99;
 *   saturation  BENCH_QUEUES_MESSAGES messages sent with SendMessageBatch
 *               (BENCH_QUEUES_SENDERS calls in flight) while the mapping runs;
 *               messages/s end to end = messages / (first send → queue empty,
 *               i.e. every message handled and deleted), and send → handler
 *               start p50/p99 under that load.
 * Also: SendMessageBatch throughput to one queue without a mapping; long-poll
 * wake-up (a ReceiveMessage waiting on an empty queue: SendMessage's answer →
 * the receive's answer, BENCH_QUEUES_WAKE_SAMPLES samples); and the baseline
 * the issue compares with, on the same run: the async invoke path's
 * saturation (the same handler, BENCH_QUEUES_MESSAGES Event invokes sent by
 * BENCH_QUEUES_SENDERS senders; first send → last handler start).
 *
 * Send leg: each steady SendMessage is split by the queue's SentTimestamp
 * (the queue object's clock when the send entered it) and the route's
 * Server-Timing (`arrive`, `auth`, `op`): client → route, SigV4, route →
 * queue object, queue object → answer, answer → client. Beside it, the same
 * run times BENCH_QUEUES_PROBES rounds of a GetQueueUrl, a SendMessage to a
 * queue without a mapping, receive → delete of that message (ReceiveMessage
 * sent → DeleteMessage answered: a consumer's cycle) and a sync Invoke, one
 * after the other (round trip p50 each: what any request costs on this
 * machine and socket).
 *
 * Prints a table; writes bench/results/queues-latest.json.
 * Knobs: BENCH_QUEUES_PHASES (send,wake,probes,steady,saturation,async), BENCH_QUEUES_BATCH_SIZES (1,10),
 * BENCH_QUEUES_VIA (proxy: wrangler dev's proxy workerd; direct: the user worker's socket), BENCH_QUEUES_PROBES (50),
 * BENCH_QUEUES_OUT (queues-latest.json, under bench/results), BENCH_QUEUES_RATE (100), BENCH_QUEUES_STEADY_S (10), BENCH_QUEUES_MESSAGES (10000),
 * BENCH_QUEUES_SENDERS (8), BENCH_QUEUES_CONCURRENCY (5), BENCH_QUEUES_DRAIN_S (60 + messages / 20), BENCH_QUEUES_WAKE_SAMPLES (20), BENCH_VERBOSE=1.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { CreateEventSourceMappingCommand, CreateFunctionCommand, InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { strToU8, zipSync } from "fflate";
import { createTenantWithKey, lambdaClient, ROOT, startPlatform, type Platform, type TenantCredentials, untilActive } from "../test/e2e/harness";
import { envNumber } from "./lib/settings";

const RATE = envNumber("BENCH_QUEUES_RATE", 100);
const STEADY_S = envNumber("BENCH_QUEUES_STEADY_S", 10);
const MESSAGES = Math.floor(envNumber("BENCH_QUEUES_MESSAGES", 10_000));
const SENDERS = Math.floor(envNumber("BENCH_QUEUES_SENDERS", 8));
const CONCURRENCY = Math.floor(envNumber("BENCH_QUEUES_CONCURRENCY", 5));
/** Long enough for this machine: about 20 messages/s end to end at worst. */
const DRAIN_S = envNumber("BENCH_QUEUES_DRAIN_S", 60 + MESSAGES / 20);
const WAKE_SAMPLES = Math.floor(envNumber("BENCH_QUEUES_WAKE_SAMPLES", 20));
const BATCH_SIZES = (process.env.BENCH_QUEUES_BATCH_SIZES ?? "1,10").split(",").map(Number);
const PHASES = new Set((process.env.BENCH_QUEUES_PHASES ?? "send,wake,probes,steady,saturation,async").split(","));
const VIA = process.env.BENCH_QUEUES_VIA === "direct" ? "direct" : "proxy";
const PROBES = Math.floor(envNumber("BENCH_QUEUES_PROBES", 50));
const SEND_BATCH = 10;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------
// Receiver: handler starts per message body

interface Receiver {
  port: number;
  /** Body → wall-clock ms its handler's POST arrived (first time), and how often it came. */
  starts: Map<string, { at: number; count: number }>;
  /** Body → the queue's SentTimestamp and ApproximateFirstReceiveTimestamp (ms, the platform's clock), and its batch's size. */
  stamps: Map<string, Stamp>;
  close(): Promise<void>;
}

/** Where a message's time went, from the queue's own timestamps (same machine, same clock as this process). */
interface Stamp {
  sent: number;
  received: number;
  batch: number;
}

/** A SendMessage seen from this process (`wire`: signed and handed to the socket; `answered`) and from the route's Server-Timing. */
interface SendTrace {
  wire: number;
  answered: number;
  /** The route's clock when it started, its SigV4 check and its operation (ms); NaN without the header. */
  arrive: number;
  auth: number;
  op: number;
}

/** Server-Timing as src/aws-json/routes.ts writes it. */
function parseServerTiming(header: string | undefined): Pick<SendTrace, "arrive" | "auth" | "op"> {
  const num = (re: RegExp) => Number(re.exec(header ?? "")?.[1] ?? NaN);
  return { arrive: num(/arrive;desc="(\d+)"/), auth: num(/auth;dur=(\d+)/), op: num(/op;dur=(\d+)/) };
}

/** Notes every SendMessage's trace by body, and every call's Server-Timing by command. */
function traceCalls(sqs: SQSClient): { sends: Map<string, SendTrace>; byCommand: Map<string, Array<Pick<SendTrace, "auth" | "op">>> } {
  const sends = new Map<string, SendTrace>();
  const byCommand = new Map<string, Array<Pick<SendTrace, "auth" | "op">>>();
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const wire = now();
      const out = await next(args);
      const answered = now();
      const headers = (out.response as { headers?: Record<string, string> }).headers ?? {};
      const timing = parseServerTiming(headers["server-timing"]);
      const command = context.commandName ?? "?";
      if (!byCommand.has(command)) byCommand.set(command, []);
      byCommand.get(command)?.push({ auth: timing.auth, op: timing.op });
      const body = (args.input as { MessageBody?: unknown }).MessageBody;
      if (command === "SendMessageCommand" && typeof body === "string") sends.set(body, { wire, answered, ...timing });
      return out;
    },
    { step: "deserialize", name: "benchTraceCalls" },
  );
  return { sends, byCommand };
}

async function startReceiver(): Promise<Receiver> {
  const starts = new Map<string, { at: number; count: number }>();
  const stamps = new Map<string, Stamp>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const at = now();
      const items = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Array<string | [string, string, string]>;
      for (const item of items) {
        const body = typeof item === "string" ? item : item[0];
        if (typeof item !== "string" && !stamps.has(body)) stamps.set(body, { sent: Number(item[1]), received: Number(item[2]), batch: items.length });
        const seen = starts.get(body);
        if (seen) seen.count += 1;
        else starts.set(body, { at, count: 1 });
      }
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    starts,
    stamps,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

// An SQS batch (Records: each body with its SentTimestamp and ApproximateFirstReceiveTimestamp) or, for the async baseline, an Event invoke's payload { body }.
const handlerSource = (port: number) => `exports.handler = async (event) => {
  const bodies = event.Records
    ? event.Records.map((r) => [r.body, r.attributes.SentTimestamp, r.attributes.ApproximateFirstReceiveTimestamp])
    : [event.body];
  await fetch("http://127.0.0.1:${port}/start", { method: "POST", body: JSON.stringify(bodies) });
  return {};
};`;

// ---------------------------------------------------------------------------
// Measurements

interface Latency {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

function latency(values: number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
  return { count: sorted.length, p50: at(50), p99: at(99), max: sorted[sorted.length - 1] ?? NaN };
}

async function depth(sqs: SQSClient, QueueUrl: string): Promise<number> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"] }));
  const a = out.Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible) + Number(a.ApproximateNumberOfMessagesDelayed);
}

/** When the queue became empty, or after BENCH_QUEUES_DRAIN_S the messages still `left` in it (a mapping that cannot keep up on this machine). */
async function untilEmpty(sqs: SQSClient, QueueUrl: string, what: string): Promise<{ at: number; left: number }> {
  const deadline = now() + DRAIN_S * 1000;
  for (;;) {
    const left = await depth(sqs, QueueUrl);
    if (left === 0) return { at: now(), left };
    if (now() > deadline) {
      console.error(`${what}: ${left} messages still in the queue after ${DRAIN_S} s`);
      return { at: now(), left };
    }
    await sleep(50);
  }
}

/** Bodies sent with SendMessageBatch, SENDERS calls in flight; returns each body's send time. */
async function sendBatches(sqs: SQSClient, QueueUrl: string, bodies: string[]): Promise<Map<string, number>> {
  const sentAt = new Map<string, number>();
  let next = 0;
  const sender = async () => {
    while (next < bodies.length) {
      const slice = bodies.slice(next, next + SEND_BATCH);
      next += SEND_BATCH;
      const t = now();
      for (const body of slice) sentAt.set(body, t);
      const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: slice.map((MessageBody, j) => ({ Id: `m${j}`, MessageBody })) }));
      if ((out.Failed?.length ?? 0) > 0) throw new Error(`SendMessageBatch failed: ${JSON.stringify(out.Failed)}`);
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, sender));
  return sentAt;
}

function startLatencies(receiver: Receiver, sentAt: Map<string, number>): { latency: Latency; missing: number; repeated: number } {
  const values: number[] = [];
  let missing = 0;
  let repeated = 0;
  for (const [body, t] of sentAt) {
    const start = receiver.starts.get(body);
    if (!start) missing += 1;
    else {
      values.push(start.at - t);
      if (start.count > 1) repeated += 1;
    }
  }
  return { latency: latency(values), missing, repeated };
}

/**
 * Where send → handler start went, p50 of each part: the SendMessage call until
 * the queue stored the message (SentTimestamp), waiting in the queue until a
 * poller's receive took it (ApproximateFirstReceiveTimestamp), and receive →
 * handler start (the invoke path); with the mean records per handler call.
 */
interface Breakdown {
  sendToQueued: number;
  /** The send leg, p50 of each part (ms): SDK until the socket, socket → route, SigV4, route → queue object, queue object → route's answer, answer → SDK; and the whole round trip. */
  sendLeg: { sdk: number; toRoute: number; auth: number; toQueue: number; inQueue: number; back: number; roundTrip: number };
  queuedToReceived: number;
  receivedToHandler: number;
  meanBatch: number;
}

function breakdown(receiver: Receiver, sentAt: Map<string, number>, sends: Map<string, SendTrace>): Breakdown {
  const parts: [number[], number[], number[]] = [[], [], []];
  const leg = { sdk: [] as number[], toRoute: [] as number[], auth: [] as number[], toQueue: [] as number[], inQueue: [] as number[], back: [] as number[], roundTrip: [] as number[] };
  let records = 0;
  let batches = 0;
  for (const [body, t] of sentAt) {
    const stamp = receiver.stamps.get(body);
    const start = receiver.starts.get(body);
    if (!stamp || !start) continue;
    parts[0].push(stamp.sent - t);
    const trace = sends.get(body);
    if (trace) {
      const authed = trace.arrive + trace.auth;
      const routeAnswered = authed + trace.op;
      leg.sdk.push(trace.wire - t);
      leg.toRoute.push(trace.arrive - trace.wire);
      leg.auth.push(trace.auth);
      leg.toQueue.push(stamp.sent - authed);
      leg.inQueue.push(routeAnswered - stamp.sent);
      leg.back.push(trace.answered - routeAnswered);
      leg.roundTrip.push(trace.answered - t);
    }
    parts[1].push(stamp.received - stamp.sent);
    parts[2].push(start.at - stamp.received);
    records += 1;
    batches += 1 / stamp.batch;
  }
  return {
    sendToQueued: latency(parts[0]).p50,
    sendLeg: {
      sdk: latency(leg.sdk).p50,
      toRoute: latency(leg.toRoute).p50,
      auth: latency(leg.auth).p50,
      toQueue: latency(leg.toQueue).p50,
      inQueue: latency(leg.inQueue).p50,
      back: latency(leg.back).p50,
      roundTrip: latency(leg.roundTrip).p50,
    },
    queuedToReceived: latency(parts[1]).p50,
    receivedToHandler: latency(parts[2]).p50,
    meanBatch: batches > 0 ? records / batches : NaN,
  };
}

// ---------------------------------------------------------------------------
// Phases

interface BatchSizeResult {
  batchSize: number;
  /** `left`: still in the queue when the drain gave up (then not counted as lost, and saturation was not run). */
  steady: { rate: number; seconds: number; sendToHandler: Latency; missing: number; repeated: number; left: number; breakdown: Breakdown };
  saturation: { messages: number; seconds: number; messagesPerSecond: number; sendToHandler: Latency; missing: number; repeated: number; left: number } | null;
}

async function runBatchSize(sqs: SQSClient, sends: Map<string, SendTrace>, lambda: LambdaClient, key: TenantCredentials, receiver: Receiver, batchSize: number): Promise<BatchSizeResult> {
  const name = `bench-b${batchSize}`;
  const QueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: "30" } }))).QueueUrl ?? "";
  await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: "bench-consumer",
      EventSourceArn: `arn:aws:sqs:us-east-1:${key.accountId}:${name}`,
      BatchSize: batchSize,
      ScalingConfig: { MaximumConcurrency: Math.max(2, CONCURRENCY) },
    }),
  );
  await sleep(1000); // the mapping's first alarm

  // Steady: open loop, one SendMessage per message at RATE/s.
  const steadySent = new Map<string, number>();
  const total = Math.round(RATE * STEADY_S);
  const begin = now();
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const due = begin + (i * 1000) / RATE;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    const body = `${name}-steady-${i}`;
    steadySent.set(body, now());
    calls.push(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body })));
  }
  await Promise.all(calls);
  const steadyEnd = await untilEmpty(sqs, QueueUrl, `${name} steady`);
  const steady = startLatencies(receiver, steadySent);
  const steadyResult = { rate: RATE, seconds: STEADY_S, sendToHandler: steady.latency, missing: steady.missing, repeated: steady.repeated, left: steadyEnd.left, breakdown: breakdown(receiver, steadySent, sends) };
  if (steadyEnd.left > 0 || !PHASES.has("saturation")) return { batchSize, steady: steadyResult, saturation: null };

  // Saturation: a burst sent as fast as SendMessageBatch takes it, drained by the mapping.
  const bodies = Array.from({ length: MESSAGES }, (_, i) => `${name}-sat-${i}`);
  const first = now();
  const satSent = await sendBatches(sqs, QueueUrl, bodies);
  const emptied = await untilEmpty(sqs, QueueUrl, `${name} saturation`);
  const seconds = (emptied.at - first) / 1000;
  const saturation = startLatencies(receiver, satSent);
  return {
    batchSize,
    steady: steadyResult,
    saturation: {
      messages: MESSAGES,
      seconds,
      messagesPerSecond: (MESSAGES - emptied.left) / seconds,
      sendToHandler: saturation.latency,
      missing: saturation.missing,
      repeated: saturation.repeated,
      left: emptied.left,
    },
  };
}

/**
 * Round trips of plain requests, one after the other, PROBES times: p50 each (ms), and the route's auth / op
 * p50 for GetQueueUrl and SendMessage. receiveToDelete is a consumer's cycle on the message just sent:
 * ReceiveMessage sent → its DeleteMessage answered (p50 and p99), what a poller pays per batch besides the invoke.
 */
interface Probes {
  rounds: number;
  getQueueUrl: number;
  sendMessage: number;
  receiveToDelete: { p50: number; p99: number };
  syncInvoke: number;
  getQueueUrlServer: { auth: number; op: number };
  sendMessageServer: { auth: number; op: number };
}

async function probes(sqs: SQSClient, byCommand: Map<string, Array<Pick<SendTrace, "auth" | "op">>>, lambda: LambdaClient): Promise<Probes> {
  const QueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "bench-probe" }))).QueueUrl ?? "";
  const rtt = { get: [] as number[], send: [] as number[], receiveToDelete: [] as number[], invoke: [] as number[] };
  const firstGet = byCommand.get("GetQueueUrlCommand")?.length ?? 0;
  const firstSend = byCommand.get("SendMessageCommand")?.length ?? 0;
  for (let i = 0; i < PROBES; i++) {
    let t = now();
    await sqs.send(new GetQueueUrlCommand({ QueueName: "bench-probe" }));
    rtt.get.push(now() - t);
    t = now();
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `probe-${i}` }));
    rtt.send.push(now() - t);
    t = now();
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }));
    const handle = received.Messages?.[0]?.ReceiptHandle;
    if (!handle) throw new Error(`probe ${i}: the message just sent was not received`);
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: handle }));
    rtt.receiveToDelete.push(now() - t);
    t = now();
    const out = await lambda.send(new InvokeCommand({ FunctionName: "bench-consumer", Payload: strToU8(JSON.stringify({ body: `probe-${i}` })) }));
    if (out.FunctionError) throw new Error(`probe invoke failed: ${out.FunctionError}`);
    rtt.invoke.push(now() - t);
  }
  const server = (command: string, from: number) => {
    const list = (byCommand.get(command) ?? []).slice(from);
    return { auth: latency(list.map((x) => x.auth)).p50, op: latency(list.map((x) => x.op)).p50 };
  };
  return {
    rounds: PROBES,
    getQueueUrl: latency(rtt.get).p50,
    sendMessage: latency(rtt.send).p50,
    receiveToDelete: { p50: latency(rtt.receiveToDelete).p50, p99: latency(rtt.receiveToDelete).p99 },
    syncInvoke: latency(rtt.invoke).p50,
    getQueueUrlServer: server("GetQueueUrlCommand", firstGet),
    sendMessageServer: server("SendMessageCommand", firstSend),
  };
}

/** SendMessageBatch throughput to one queue nobody reads. */
async function sendThroughput(sqs: SQSClient): Promise<{ messages: number; seconds: number; messagesPerSecond: number }> {
  const QueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "bench-send-only" }))).QueueUrl ?? "";
  const bodies = Array.from({ length: MESSAGES }, (_, i) => `send-only-${i}`);
  const t = now();
  await sendBatches(sqs, QueueUrl, bodies);
  const seconds = (now() - t) / 1000;
  return { messages: MESSAGES, seconds, messagesPerSecond: MESSAGES / seconds };
}

/** Long-poll wake-up: a receive waiting on an empty queue, then a send; SendMessage's answer → the receive's answer. */
async function wakeUps(sqs: SQSClient): Promise<Latency> {
  const QueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "bench-wake" }))).QueueUrl ?? "";
  const values: number[] = [];
  for (let i = 0; i < WAKE_SAMPLES; i++) {
    let received = 0;
    const receive = sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20, MaxNumberOfMessages: 1 })).then((out) => {
      received = now();
      return out;
    });
    await sleep(200); // the receive is waiting
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `wake-${i}` }));
    const sent = now();
    const out = await receive;
    if ((out.Messages?.length ?? 0) !== 1) throw new Error("long poll: the waiting receive did not get the message");
    values.push(received - sent);
  }
  return latency(values);
}

/** The async path's saturation with the same handler: Event invokes back to back, first send → last handler start. */
async function asyncSaturation(lambda: LambdaClient, receiver: Receiver): Promise<{ events: number; seconds: number; eventsPerSecond: number; missing: number }> {
  const bodies = Array.from({ length: MESSAGES }, (_, i) => `async-sat-${i}`);
  let next = 0;
  const first = now();
  const sender = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const out = await lambda.send(new InvokeCommand({ FunctionName: "bench-consumer", InvocationType: "Event", Payload: strToU8(JSON.stringify({ body })) }));
      if (out.StatusCode !== 202) throw new Error(`Event invoke answered ${out.StatusCode}`);
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, sender));
  const deadline = now() + DRAIN_S * 1000;
  while (bodies.some((b) => !receiver.starts.has(b)) && now() < deadline) await sleep(50);
  const starts = bodies.map((b) => receiver.starts.get(b)?.at).filter((t): t is number => t !== undefined);
  const seconds = (Math.max(...starts) - first) / 1000;
  return { events: MESSAGES, seconds, eventsPerSecond: starts.length / seconds, missing: MESSAGES - starts.length };
}

// ---------------------------------------------------------------------------

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : "n/a");

async function main(): Promise<void> {
  const receiver = await startReceiver();
  let platform: Platform | undefined;
  try {
    platform = await startPlatform({ verbose: process.env.BENCH_VERBOSE === "1", via: VIA });
    const key = await createTenantWithKey(platform, "bench");
    const sqs = new SQSClient({
      endpoint: platform.url,
      region: "us-east-1",
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
      maxAttempts: 1,
    });
    const traces = traceCalls(sqs);
    const lambda = lambdaClient(platform, key);
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: "bench-consumer",
        Role: "arn:aws:iam::123456789012:role/r",
        Runtime: "nodejs22.x",
        Handler: "index.handler",
        Code: { ZipFile: zipSync({ "index.js": strToU8(handlerSource(receiver.port)) }) },
      }),
    );
    await untilActive(lambda, "bench-consumer");

    const send = PHASES.has("send") ? await sendThroughput(sqs) : null;
    const wake = PHASES.has("wake") ? await wakeUps(sqs) : null;
    const probed = PHASES.has("probes") ? await probes(sqs, traces.byCommand, lambda) : null;
    const results: BatchSizeResult[] = [];
    if (PHASES.has("steady")) for (const size of BATCH_SIZES) results.push(await runBatchSize(sqs, traces.sends, lambda, key, receiver, size));
    const asyncBaseline = PHASES.has("async") ? await asyncSaturation(lambda, receiver) : null;

    console.log(`\nbench:queues on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), ${new Date().toISOString()}, via ${VIA}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
    if (send) console.log(`SendMessageBatch to one queue (no mapping): ${send.messagesPerSecond.toFixed(0)} messages/s (${send.messages} in ${send.seconds.toFixed(2)} s, ${SENDERS} calls in flight)`);
    if (probed) {
      console.log(
        `\nround trips, ${probed.rounds} rounds one after the other, p50: GetQueueUrl ${ms(probed.getQueueUrl)} (route: auth ${ms(probed.getQueueUrlServer.auth)}, op ${ms(probed.getQueueUrlServer.op)}); ` +
          `SendMessage, no mapping ${ms(probed.sendMessage)} (route: auth ${ms(probed.sendMessageServer.auth)}, op ${ms(probed.sendMessageServer.op)}); ` +
          `receive → delete (ReceiveMessage sent → DeleteMessage answered) ${ms(probed.receiveToDelete.p50)}, p99 ${ms(probed.receiveToDelete.p99)}; sync Invoke ${ms(probed.syncInvoke)}`,
      );
    }
    console.log("\nBatchSize | steady rate | send→handler p50 | p99   | saturation msgs/s (send→handler→delete) | send→handler p50 | p99   | missing | repeated");
    for (const r of results) {
      if (!r.saturation) {
        console.log(`${String(r.batchSize).padEnd(9)} | ${r.steady.rate}/s ${r.steady.seconds} s | ${ms(r.steady.sendToHandler.p50)} | ${ms(r.steady.sendToHandler.p99)} | not run: ${r.steady.left} steady messages left after ${DRAIN_S} s`);
        continue;
      }
      console.log(
        [
          String(r.batchSize).padEnd(9),
          `${r.steady.rate}/s ${r.steady.seconds} s`.padEnd(11),
          ms(r.steady.sendToHandler.p50).padEnd(16),
          ms(r.steady.sendToHandler.p99).padEnd(5),
          `${r.saturation.messagesPerSecond.toFixed(0)} (${r.saturation.messages - r.saturation.left} in ${r.saturation.seconds.toFixed(2)} s)`.padEnd(39),
          ms(r.saturation.sendToHandler.p50).padEnd(16),
          ms(r.saturation.sendToHandler.p99).padEnd(5),
          String(r.steady.missing + r.saturation.missing).padEnd(7),
          String(r.steady.repeated + r.saturation.repeated),
        ].join(" | "),
      );
    }
    for (const r of results) {
      const b = r.steady.breakdown;
      console.log(
        `BatchSize ${r.batchSize} steady, p50 of each part: send → queued ${ms(b.sendToQueued)}, queued → received by the poller ${ms(b.queuedToReceived)}, ` +
          `received → handler start ${ms(b.receivedToHandler)}; ${b.meanBatch.toFixed(1)} records per handler call`,
      );
      const l = b.sendLeg;
      console.log(
        `  send leg, p50 of each part: SDK ${ms(l.sdk)}, socket → route ${ms(l.toRoute)}, SigV4 ${ms(l.auth)}, route → queue object ${ms(l.toQueue)}, ` +
          `queue object → route's answer ${ms(l.inQueue)}, answer → SDK ${ms(l.back)}; SendMessage round trip ${ms(l.roundTrip)}`,
      );
    }
    if (wake) console.log(`\nlong-poll wake-up (SendMessage answered → waiting ReceiveMessage answered), ${wake.count} samples: p50 ${ms(wake.p50)}, p99 ${ms(wake.p99)} (target p50 <= 5 ms: ${wake.p50 <= 5 ? "PASS" : "MISS"})`);
    if (asyncBaseline) console.log(`async invoke saturation, same handler and run: ${asyncBaseline.eventsPerSecond.toFixed(0)} events/s (${asyncBaseline.events} in ${asyncBaseline.seconds.toFixed(2)} s, ${asyncBaseline.missing} missing)`);
    for (const r of results) {
      const ratio = (r.saturation?.messagesPerSecond ?? NaN) / (asyncBaseline?.eventsPerSecond ?? NaN);
      console.log(
        `BatchSize ${r.batchSize}: steady ${r.steady.rate}/s send→handler p50 ${ms(r.steady.sendToHandler.p50)} (target <= 20 ms: ${r.steady.sendToHandler.p50 <= 20 ? "PASS" : "MISS"}); ` +
          `saturation / async saturation ${ratio.toFixed(2)} (target >= 1: ${ratio >= 1 ? "PASS" : "MISS"})`,
      );
    }
    const out = path.join(ROOT, "bench", "results");
    mkdirSync(out, { recursive: true });
    const settings = { RATE, STEADY_S, MESSAGES, SENDERS, CONCURRENCY, VIA, PHASES: [...PHASES], BATCH_SIZES, PROBES };
    const file = process.env.BENCH_QUEUES_OUT ?? "queues-latest.json";
    writeFileSync(path.join(out, file), `${JSON.stringify({ at: new Date().toISOString(), cpus: os.cpus().length, loadavg: os.loadavg(), settings, send, wake, probes: probed, asyncBaseline, results }, null, 2)}\n`);
    // Messages still in a queue when its drain gave up are not lost: only those gone without a handler start are.
    const lost = results.reduce((n, r) => n + Math.max(0, r.steady.missing - r.steady.left) + Math.max(0, (r.saturation?.missing ?? 0) - (r.saturation?.left ?? 0)), 0) + (asyncBaseline?.missing ?? 0);
    if (lost > 0) {
      console.error(`\n${lost} messages left the queue without their handler starting`);
      process.exitCode = 1;
    }
  } finally {
    await platform?.stop();
    await receiver.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
