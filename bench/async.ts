/**
 * `npm run bench:async`: asynchronous invoke (InvocationType Event) on this
 * machine, over loopback.
 *
 * Starts cellfn (test/e2e/harness.ts: `wrangler dev`, fresh state, migrations,
 * ALLOW_PRIVATE_EGRESS=true) and a small HTTP receiver on 127.0.0.1 in this
 * process (bench/async/receiver.ts). Every tenant's function is the same
 * handler (bench/async/handler.ts): its first statement POSTs
 * `{ id: event.id, t: Date.now() }` to the receiver, then it returns. The bench
 * sends Event invokes (`Authorization: Bearer <token>`, `{ id }` payloads,
 * node:http keep-alive) and keeps, per event, the 202's latency (enqueue
 * acknowledgement) and the delay from the 202's arrival to the handler's start
 * (end-to-end delay; one wall clock: workerd's Date.now() is the time of the
 * isolate's last I/O, here the arrival of the invoke).
 *
 * Phase 1, one tenant and function (sideline mode forced "off": the shard path):
 *   steady      open loop at BENCH_ASYNC_STEADY_RATE events/s: ack p50/p99, end-to-end p50/p99;
 *   saturation  closed loop: BENCH_ASYNC_SAT_CONCURRENCY senders back to back for
 *               BENCH_ASYNC_SAT_S seconds (at most BENCH_ASYNC_SAT_MAX events); events/s at
 *               saturation = accepted events / (first send → last handler start), with the
 *               handler-start rate while acks compete for the CPU and once they stop.
 * Phase 2, noisy neighbour: BENCH_ASYNC_QUIET_TENANTS quiet tenants at
 *   BENCH_ASYNC_QUIET_RATE events/s each (open loop, fixed schedule, random phase)
 *   and one flooder at BENCH_ASYNC_FLOOD_FACTOR times that rate, BENCH_ASYNC_RUN_S per run:
 *   (i) no flood, (ii) flood with the flooder's sideline mode "off" (shuffle
 *   sharding + best-of-two only), (iii) flood with sidelining "auto", then "on"
 *   (BENCH_ASYNC_SIDELINE_RUNS), (i') no flood again (pooled with (i) as each quiet
 *   tenant's baseline: this machine is shared and its background load drifts).
 *   While a run sends, phase 2 handlers run BENCH_ASYNC_HANDLER_MS (the receiver
 *   holds its reply: I/O wait, no CPU), so the flooder's queues back up at a rate the
 *   machine can carry; without it they only back up once the flood saturates the
 *   whole machine (phase 1 shows one function's queues keep up with what the CPU can
 *   process). When a run stops sending, handlers return at once so the backlog drains
 *   fast; a quiet p99 that includes such events is printed as a lower bound (">=").
 *   Per quiet tenant: its cell (admin API) and shard (src/placement/shuffle-shard.ts,
 *   key `${tenantId}/${functionName}`), its overlap with the flooder's shard, baseline
 *   vs flood p99, rises > 20 %; the share of quiet tenants that rose against the share
 *   whose shard overlaps the flooder's (PASS/MISS), and against 0 with sidelining.
 *
 * After each run the bench waits (at most BENCH_ASYNC_DRAIN_S) for every accepted
 * event's handler start, and once more at the end (BENCH_ASYNC_FINAL_DRAIN_S); an
 * accepted event whose handler never started is reported as missing, with what the
 * platform says of it (failed events) and the wrangler output saved. CPU of the
 * machine, of other processes and of the busiest server thread is sampled every
 * second while sending, to tell a queue backlog from a saturated machine.
 *
 * Prints tables and target checks; writes bench/results/async-latest.json.
 * Knobs (environment): BENCH_ASYNC_STEADY_RATE (10), BENCH_ASYNC_STEADY_S (10),
 * BENCH_ASYNC_SAT_S (6), BENCH_ASYNC_SAT_CONCURRENCY (16), BENCH_ASYNC_SAT_MAX (2000),
 * BENCH_ASYNC_QUIET_TENANTS (20), BENCH_ASYNC_QUIET_RATE (0.5), BENCH_ASYNC_FLOOD_FACTOR (50),
 * BENCH_ASYNC_HANDLER_MS (100; 0 allowed), BENCH_ASYNC_RUN_S (25), BENCH_ASYNC_DRAIN_S (40),
 * BENCH_ASYNC_FINAL_DRAIN_S (60), BENCH_ASYNC_SIDELINE_RUNS ("auto,on"),
 * BENCH_ASYNC_BASELINE_AFTER (1; 0 skips (i')), BENCH_ASYNC_FAST_DRAIN (1; 0 keeps handlers slow while draining),
 * BENCH_ASYNC_SKIP_PHASE1=1, BENCH_VERBOSE=1.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { adminFetch, createTenantWithKey, ROOT, startPlatform, type Platform, type TenantCredentials } from "../test/e2e/harness";
import { makeZipBase64 } from "../test/fixtures/zips";
import { shuffleShard } from "../src/placement/shuffle-shard";
import { FLOOD_MIN_EVENTS, FLOOD_SHARE, SIDELINE_WINDOW_MS } from "../src/placement/sideline";
import { asyncHandlerSource } from "./async/handler";
import { cpuSampler, type CpuSummary } from "./async/cpu";
import { startReceiver, type Receiver } from "./async/receiver";
import { postLocal } from "./lib/http";
import { waitUntilActive } from "./lib/lambda";
import { envNumber } from "./lib/settings";

// ---------------------------------------------------------------------------
// Settings

const STEADY_RATE = envNumber("BENCH_ASYNC_STEADY_RATE", 10);
const STEADY_S = envNumber("BENCH_ASYNC_STEADY_S", 10);
const SAT_S = envNumber("BENCH_ASYNC_SAT_S", 6);
const SAT_CONCURRENCY = Math.floor(envNumber("BENCH_ASYNC_SAT_CONCURRENCY", 16));
const SAT_MAX = Math.floor(envNumber("BENCH_ASYNC_SAT_MAX", 2000));
const QUIET_TENANTS = Math.floor(envNumber("BENCH_ASYNC_QUIET_TENANTS", 20));
const QUIET_RATE = envNumber("BENCH_ASYNC_QUIET_RATE", 0.5);
const FLOOD_FACTOR = envNumber("BENCH_ASYNC_FLOOD_FACTOR", 50);
/** Phase 2 handlers run this long (the receiver holds its reply): a function doing I/O, not CPU. */
const HANDLER_MS = envNumber("BENCH_ASYNC_HANDLER_MS", 100, true);
const RUN_S = envNumber("BENCH_ASYNC_RUN_S", 25);
const DRAIN_S = envNumber("BENCH_ASYNC_DRAIN_S", 40);
const FINAL_DRAIN_S = envNumber("BENCH_ASYNC_FINAL_DRAIN_S", 60);
const SIDELINE_RUNS = (process.env.BENCH_ASYNC_SIDELINE_RUNS ?? "auto,on")
  .split(",")
  .map((s) => s.trim())
  .filter((s): s is "auto" | "on" => s === "auto" || s === "on");
const SKIP_PHASE1 = process.env.BENCH_ASYNC_SKIP_PHASE1 === "1";
/** 0: phase 2 handlers keep running HANDLER_MS after a run stops sending (slow drains). */
const FAST_DRAIN = process.env.BENCH_ASYNC_FAST_DRAIN !== "0";
/** A second no-flood run after the flood runs (pooled with the first as the baseline). */
const BASELINE_AFTER = process.env.BENCH_ASYNC_BASELINE_AFTER !== "0";
const VERBOSE = process.env.BENCH_VERBOSE === "1";
/** Every request gives up after this long (counted as an error). */
const REQUEST_TIMEOUT_MS = 10_000;
/** A quiet tenant "rose" when its flood p99 exceeds its baseline p99 by more than this. */
const RISE_THRESHOLD = 0.2;
/** A quiet event that starts this long after its run stopped sending waited in a backlog (see handlersSlow). */
const LATE_MARGIN_MS = 1500;
/** Machine or busiest-server-thread CPU share above which a run counts as CPU-saturated. */
const SATURATED_CPU = 0.9;
/** Above this the CPU is busy enough to slow everyone somewhat (noted, not a warning). */
const BUSY_CPU = 0.75;

const RESULTS = path.join(ROOT, "bench", "results", "async-latest.json");
const FUNCTION_NAME = "bench-async";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const log = (message: string) => process.stderr.write(`[bench:async] ${message}\n`);
/** Wall-clock ms with sub-ms resolution (comparable with workerd's Date.now()). */
const wallNow = () => performance.timeOrigin + performance.now();

/** Layout of the async queues, as wrangler.toml declares it (the harness does not override these vars). */
function wranglerVar(name: string): number {
  const toml = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");
  const match = new RegExp(`^${name}\\s*=\\s*"(\\d+)"`, "m").exec(toml);
  if (!match) throw new Error(`${name} not found in wrangler.toml`);
  return Number(match[1]);
}
const CELL_COUNT = wranglerVar("CELL_COUNT");
const QUEUES_PER_CELL = wranglerVar("ASYNC_QUEUES_PER_CELL");
const SHARD_SIZE = wranglerVar("ASYNC_SHARD_SIZE");
const MAX_BATCH_SIZE = (() => {
  const match = /^max_batch_size\s*=\s*(\d+)/m.exec(readFileSync(path.join(ROOT, "wrangler.toml"), "utf8"));
  return match ? Number(match[1]) : Number.NaN;
})();
const MAX_BATCH_TIMEOUT_S = (() => {
  const match = /^max_batch_timeout\s*=\s*(\d+(?:\.\d+)?)/m.exec(readFileSync(path.join(ROOT, "wrangler.toml"), "utf8"));
  return match ? Number(match[1]) : Number.NaN;
})();

// ---------------------------------------------------------------------------
// Sending events

interface Tenant {
  label: string;
  creds: TenantCredentials;
  cell: number;
  /** Queue indexes of the function's shard in its cell. */
  shard: number[];
}

interface SentEvent {
  id: string;
  tenant: string;
  /** Wall-clock ms the request was sent / the reply arrived. */
  sentAt: number;
  ackAt?: number;
  ackMs?: number;
  status?: number;
  /** x-amzn-RequestId of the reply (the event's request id when accepted). */
  requestId?: string;
  /** Error kind when not accepted (non-202, network, timeout). */
  error?: string;
  errorDetail?: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });

async function post(port: number, urlPath: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string; requestId?: string }> {
  const reply = await postLocal(agent, port, urlPath, headers, body, REQUEST_TIMEOUT_MS);
  const requestId = reply.headers["x-amzn-requestid"];
  return { status: reply.status, body: reply.body, ...(typeof requestId === "string" ? { requestId } : {}) };
}

const invokePath = `/2015-03-31/functions/${FUNCTION_NAME}/invocations`;

/** Every id this process sent (to spot handler starts nobody asked for). */
const sentIds = new Set<string>();

async function sendEvent(platform: Platform, tenant: Tenant, id: string): Promise<SentEvent> {
  sentIds.add(id);
  const event: SentEvent = { id, tenant: tenant.label, sentAt: wallNow() };
  try {
    const reply = await post(
      platform.port,
      invokePath,
      { authorization: `Bearer ${tenant.creds.token}`, "content-type": "application/json", "x-amz-invocation-type": "Event" },
      JSON.stringify({ id }),
    );
    event.ackAt = wallNow();
    event.ackMs = event.ackAt - event.sentAt;
    event.status = reply.status;
    if (reply.requestId) event.requestId = reply.requestId;
    if (reply.status !== 202) {
      event.error = `http ${reply.status}`;
      event.errorDetail = reply.body.slice(0, 300);
    }
  } catch (err) {
    event.ackAt = wallNow();
    event.error = "network";
    event.errorDetail = err instanceof Error ? err.message : String(err);
  }
  return event;
}

interface Plan {
  tenant: Tenant;
  ratePerS: number;
  prefix: string;
}

/**
 * Open loop: every plan sends on its own fixed schedule (random phase), whether
 * or not earlier requests have been answered. At most rate × duration (+1) events per plan.
 */
async function openLoop(platform: Platform, plans: Plan[], durationS: number): Promise<SentEvent[]> {
  const start = wallNow() + 50;
  const end = start + durationS * 1000;
  const state = plans.map((plan) => {
    const interval = 1000 / plan.ratePerS;
    return { plan, interval, next: start + Math.random() * interval, seq: 0, max: Math.ceil(plan.ratePerS * durationS) + 1 };
  });
  const pending: Promise<SentEvent>[] = [];
  while (true) {
    const now = wallNow();
    if (now >= end) break;
    for (const s of state) {
      while (s.next <= now && s.next < end && s.seq < s.max) {
        pending.push(sendEvent(platform, s.plan.tenant, `${s.plan.prefix}-${String(s.seq++).padStart(5, "0")}`));
        s.next += s.interval;
      }
    }
    await sleep(2);
  }
  return Promise.all(pending);
}

/** Closed loop: `concurrency` senders, each sends the next event as soon as the previous one is answered. */
async function closedLoop(platform: Platform, tenant: Tenant, prefix: string, concurrency: number, durationS: number, maxEvents: number): Promise<SentEvent[]> {
  const end = wallNow() + durationS * 1000;
  const out: SentEvent[] = [];
  let seq = 0;
  const worker = async () => {
    while (wallNow() < end && seq < maxEvents) {
      const event = await sendEvent(platform, tenant, `${prefix}-${String(seq++).padStart(5, "0")}`);
      out.push(event);
      if (event.error === "network") await sleep(10); // a refused connection must not spin
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

/** Waits until every accepted event's handler has started, or `drainS` seconds. */
async function drain(receiver: Receiver, events: SentEvent[], drainS: number): Promise<{ waitedS: number; left: number }> {
  const t0 = wallNow();
  const deadline = t0 + drainS * 1000;
  let pending = events.filter((e) => !e.error && !receiver.starts.has(e.id));
  while (pending.length > 0 && wallNow() < deadline) {
    await sleep(100);
    pending = pending.filter((e) => !receiver.starts.has(e.id));
  }
  return { waitedS: (wallNow() - t0) / 1000, left: pending.length };
}

// ---------------------------------------------------------------------------
// Statistics

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

interface Dist {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

function dist(values: number[]): Dist {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.length ? sorted.reduce((s, v) => s + v, 0) / sorted.length : Number.NaN,
  };
}

interface RunStats {
  sent: number;
  accepted: number;
  errors: Record<string, number>;
  errorSamples: Record<string, string>;
  /** Accepted events whose handler had not started when the drain window closed. */
  missing: number;
  missingIds: string[];
  /** Handler starts beyond the first (at-least-once re-runs). */
  duplicateStarts: number;
  ack: Dist;
  /** 202 arrival → handler start (handler's Date.now()). */
  e2e: Dist;
  /** 202 arrival → the receiver got the handler's POST (adds the egress hop). */
  e2eReceiver: Dist;
}

function stats(receiver: Receiver, events: SentEvent[]): RunStats {
  const errors: Record<string, number> = {};
  const errorSamples: Record<string, string> = {};
  const ack: number[] = [];
  const e2e: number[] = [];
  const e2eReceiver: number[] = [];
  const missingIds: string[] = [];
  let duplicateStarts = 0;
  for (const e of events) {
    if (e.error) {
      errors[e.error] = (errors[e.error] ?? 0) + 1;
      errorSamples[e.error] ??= e.errorDetail ?? "";
      continue;
    }
    ack.push(e.ackMs!);
    const start = receiver.starts.get(e.id);
    if (!start) {
      missingIds.push(e.id);
      continue;
    }
    duplicateStarts += start.count - 1;
    e2e.push(start.t - e.ackAt!);
    e2eReceiver.push(start.at - e.ackAt!);
  }
  return {
    sent: events.length,
    accepted: ack.length,
    errors,
    errorSamples,
    missing: missingIds.length,
    missingIds: missingIds.slice(0, 20),
    duplicateStarts,
    ack: dist(ack),
    e2e: dist(e2e),
    e2eReceiver: dist(e2eReceiver),
  };
}

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : "-");
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "-");
const pct = (n: number) => (Number.isFinite(n) ? `${(n * 100).toFixed(1)} %` : "-");

function table(head: string[], rows: string[][], leftCols: number[] = [0]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (leftCols.includes(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  return [fmt(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(fmt)].join("\n");
}

const errorText = (s: RunStats) => {
  const kinds = Object.entries(s.errors).map(([k, v]) => `${k}: ${v}`);
  const total = Object.values(s.errors).reduce((a, b) => a + b, 0);
  return total === 0 ? "0" : `${total} (${kinds.join(", ")})`;
};

// ---------------------------------------------------------------------------
// Setup

async function lambdaCall(platform: Platform, creds: TenantCredentials, method: string, urlPath: string, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${platform.url}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${creds.token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, text: await res.text() };
}

async function createTenant(platform: Platform, label: string, zip: string): Promise<Tenant> {
  const creds = await createTenantWithKey(platform, `bench-async-${label}`);
  const res = await lambdaCall(platform, creds, "POST", "/2015-03-31/functions", {
    FunctionName: FUNCTION_NAME,
    Runtime: "nodejs22.x",
    Role: `arn:aws:iam::${creds.accountId}:role/bench`,
    Handler: "index.handler",
    Code: { ZipFile: zip },
  });
  if (res.status !== 201) throw new Error(`CreateFunction for ${label}: HTTP ${res.status}: ${res.text}`);
  await waitUntilActive(platform, creds, FUNCTION_NAME);
  const view = await adminFetch(platform, "GET", `/admin/tenants/${encodeURIComponent(creds.tenantId)}`);
  if (view.status !== 200) throw new Error(`GET /admin/tenants/${creds.tenantId}: HTTP ${view.status}: ${view.text}`);
  const cell = Number((view.body as { cell: number }).cell) % CELL_COUNT;
  return { label, creds, cell, shard: shuffleShard(`${creds.tenantId}/${FUNCTION_NAME}`, QUEUES_PER_CELL, SHARD_SIZE) };
}

async function setSideline(platform: Platform, tenant: Tenant, mode: "on" | "off" | "auto"): Promise<void> {
  const res = await adminFetch(platform, "PUT", `/admin/tenants/${encodeURIComponent(tenant.creds.tenantId)}/sideline`, { mode });
  if (res.status !== 200) throw new Error(`PUT sideline ${mode} for ${tenant.label}: HTTP ${res.status}: ${res.text}`);
}

interface CellView {
  cell: number;
  depths: Record<string, number>;
  tenants: Array<{ tenantId: string; mode: string; sidelined: boolean; eventsInWindow: number }>;
  lowPriorityAfterSeconds: number | null;
}

async function cells(platform: Platform): Promise<CellView[]> {
  const res = await adminFetch(platform, "GET", "/admin/cells");
  if (res.status !== 200) throw new Error(`GET /admin/cells: HTTP ${res.status}: ${res.text}`);
  return (res.body as { cells: CellView[] }).cells;
}

/** Sends one event per tenant and waits for every handler to start (warm environments, smoke test). */
async function warm(platform: Platform, receiver: Receiver, tenants: Tenant[], prefix: string): Promise<void> {
  const events = await Promise.all(tenants.map((t, i) => sendEvent(platform, t, `${prefix}-${i}`)));
  const bad = events.find((e) => e.error);
  if (bad) throw new Error(`warm-up event for ${bad.tenant}: ${bad.error}: ${bad.errorDetail}`);
  await drain(receiver, events, 30);
  const missing = events.filter((e) => !receiver.starts.has(e.id));
  if (missing.length) {
    throw new Error(
      `warm-up: ${missing.length} of ${events.length} accepted events never reached the handler within 30 s ` +
        `(is the queue consumer running? ${missing.map((e) => e.tenant).join(", ")})\n--- wrangler output (tail) ---\n${platform.output().slice(-4000)}`,
    );
  }
}

interface SidelineWatch {
  polls: number;
  /** Polls that found the tenant sidelined. */
  sidelinedPolls: number;
  /** Changes to sidelined / back to its shard seen between polls (the first poll counts if sidelined). */
  sidelined: number;
  back: number;
  /** Seconds from the start of the watch to the first poll that found it sidelined. */
  firstSidelinedAfterS?: number;
}

/**
 * Watches a tenant's sideline state through the admin API (GET /admin/cells/{cell}, the
 * QueueManager's view) every `everyMs` until stopped. (wrangler's output is only kept
 * for its last 256 KB, too little to count queue-manager's log lines over a run.)
 */
function watchSideline(platform: Platform, tenant: Tenant, everyMs = 500): { stop(): Promise<SidelineWatch> } {
  const watch: SidelineWatch = { polls: 0, sidelinedPolls: 0, sidelined: 0, back: 0 };
  const started = wallNow();
  let stopped = false;
  let previous = false;
  const loop = (async () => {
    while (!stopped) {
      const res = await adminFetch(platform, "GET", `/admin/cells/${tenant.cell}`, undefined, { timeoutMs: 10_000 }).catch(() => undefined);
      const entry = res?.status === 200 ? (res.body as CellView).tenants.find((t) => t.tenantId === tenant.creds.tenantId) : undefined;
      if (entry) {
        watch.polls += 1;
        if (entry.sidelined) {
          watch.sidelinedPolls += 1;
          watch.firstSidelinedAfterS ??= (wallNow() - started) / 1000;
        }
        if (entry.sidelined && !previous) watch.sidelined += 1;
        if (!entry.sidelined && previous) watch.back += 1;
        previous = entry.sidelined;
      }
      await sleep(everyMs);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return watch;
    },
  };
}

/**
 * For accepted events whose handler never started: did the platform give up on
 * them (a failed event, with its condition) or are they still somewhere (queued,
 * waiting for a retry or backoff)? Reads each tenant's failed events (cellfn API).
 */
async function explainMissing(platform: Platform, tenants: Tenant[], missing: SentEvent[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const byTenant = new Map<string, SentEvent[]>();
  for (const e of missing) byTenant.set(e.tenant, [...(byTenant.get(e.tenant) ?? []), e]);
  for (const [label, events] of byTenant) {
    const tenant = tenants.find((t) => t.label === label);
    if (!tenant) continue;
    const conditions = new Map<string, string>();
    let marker: string | undefined;
    for (let page = 0; page < 40; page++) {
      const res = await fetch(
        `${platform.url}/cellfn/v1/functions/${FUNCTION_NAME}/failed-events?MaxItems=50${marker ? `&Marker=${encodeURIComponent(marker)}` : ""}`,
        { headers: { authorization: `Bearer ${tenant.creds.token}` }, signal: AbortSignal.timeout(30_000) },
      ).catch(() => undefined);
      if (!res || res.status !== 200) break;
      const body = (await res.json()) as { FailedEvents: Array<{ RequestId: string; Condition: string }>; NextMarker?: string };
      for (const f of body.FailedEvents) conditions.set(f.RequestId, f.Condition);
      if (!body.NextMarker) break;
      marker = body.NextMarker;
    }
    for (const e of events) {
      const kind = e.requestId && conditions.has(e.requestId) ? `failed event: ${conditions.get(e.requestId)}` : "no failed event (still queued, retrying or lost)";
      out[kind] = (out[kind] ?? 0) + 1;
    }
  }
  return out;
}

/** Counts of the poller's and queue-manager's log lines (first words), to explain trouble. */
function logSummary(platform: Platform): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of platform.output().split("\n")) {
    const batch = /QUEUE (\S+) (\d+)\/(\d+)/.exec(line);
    if (batch && Number(batch[2]) < Number(batch[3])) {
      counts["queue batch with messages not acked"] = (counts["queue batch with messages not acked"] ?? 0) + 1;
      continue;
    }
    const m = /(poller: [a-z' ]+|queue-manager: [a-z]+|Moving message|Dropped message|Retrying message|Error[^:]*:)/i.exec(line);
    if (!m) continue;
    const key = m[1]!.replace(/ t-[0-9a-f]+.*$/, "").trim();
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

// ---------------------------------------------------------------------------
// Main

interface Phase2Run {
  key: string;
  label: string;
  flood: "none" | "off" | "auto" | "on";
  events: SentEvent[];
  sendStart: number;
  sendEnd: number;
  /** CPU while sending (the measured window). */
  cpu: CpuSummary;
  /** Waiting for this run's handler starts after sending stopped. */
  drain: { waitedS: number; left: number };
  sideline?: SidelineWatch;
  cellsAtSendEnd?: CellView[];
}

/** Handler starts (handler clock) of the accepted events among `events`, sorted. */
function startTimes(receiver: Receiver, events: SentEvent[]): number[] {
  return events
    .filter((e) => !e.error)
    .map((e) => receiver.starts.get(e.id)?.t)
    .filter((t): t is number => t !== undefined)
    .sort((a, b) => a - b);
}

const countIn = (sorted: number[], from: number, to: number) => sorted.filter((t) => t >= from && t <= to).length;

async function main(): Promise<void> {
  const begun = Date.now();
  let platform: Platform | undefined;
  let receiver: Receiver | undefined;
  const cpu = cpuSampler();
  try {
    log(`starting cellfn and the receiver (${os.cpus().length} CPUs, node ${process.version})`);
    // Phase 2 handlers run HANDLER_MS while a run is sending; once it stops they return at once,
    // so the flood's backlog drains quickly (events it sped up are marked in the report).
    let handlersSlow = false;
    receiver = await startReceiver((id) => (handlersSlow && id.startsWith("p2-") ? HANDLER_MS : 0));
    const bootStarted = Date.now();
    platform = await startPlatform({ vars: { ALLOW_PRIVATE_EGRESS: "true" }, verbose: VERBOSE });
    const p = platform;
    const r = receiver;
    log(`cellfn at ${p.url} (${((Date.now() - bootStarted) / 1000).toFixed(1)} s), receiver at 127.0.0.1:${r.port}`);

    const zip = makeZipBase64({ "index.mjs": asyncHandlerSource(r.port) });
    const setupStarted = Date.now();
    const solo = await createTenant(p, "solo", zip);
    const quiet: Tenant[] = [];
    for (let i = 0; i < QUIET_TENANTS; i++) quiet.push(await createTenant(p, `quiet-${String(i + 1).padStart(2, "0")}`, zip));
    const flooder = await createTenant(p, "flooder", zip);
    const all = [solo, ...quiet, flooder];
    await warm(p, r, all, "warm");
    log(`${all.length} tenants with function ${FUNCTION_NAME} ready and warm (${((Date.now() - setupStarted) / 1000).toFixed(1)} s)`);
    const allEvents: SentEvent[] = [];

    // ---------------- Phase 1: measure
    let p1:
      | {
          steady: { events: SentEvent[]; cpu: CpuSummary; drain: { waitedS: number; left: number } };
          sat: { events: SentEvent[]; cpu: CpuSummary; drain: { waitedS: number; left: number }; start: number; sendEnd: number };
        }
      | undefined;
    if (!SKIP_PHASE1) {
      await setSideline(p, solo, "off");
      log(`phase 1 steady: ${STEADY_RATE} events/s for ${STEADY_S} s (tenant ${solo.creds.tenantId}, cell ${solo.cell}, shard [${solo.shard}], sideline off)`);
      cpu.start();
      const steadyEvents = await openLoop(p, [{ tenant: solo, ratePerS: STEADY_RATE, prefix: "p1-steady" }], STEADY_S);
      const steadyCpu = cpu.stop();
      allEvents.push(...steadyEvents);
      const steadyDrain = await drain(r, steadyEvents, DRAIN_S);
      await sleep(1500);

      log(`phase 1 saturation: ${SAT_CONCURRENCY} senders back to back for ${SAT_S} s (at most ${SAT_MAX} events)`);
      cpu.start();
      const satStart = wallNow();
      const satEvents = await closedLoop(p, solo, "p1-sat", SAT_CONCURRENCY, SAT_S, SAT_MAX);
      const satSendEnd = wallNow();
      const satCpu = cpu.stop();
      allEvents.push(...satEvents);
      const satDrain = await drain(r, satEvents, DRAIN_S);
      p1 = {
        steady: { events: steadyEvents, cpu: steadyCpu, drain: steadyDrain },
        sat: { events: satEvents, cpu: satCpu, drain: satDrain, start: satStart, sendEnd: satSendEnd },
      };
      await sleep(2000);
    }

    // ---------------- Phase 2: measure
    const floodRate = QUIET_RATE * FLOOD_FACTOR;
    const runs: Phase2Run[] = [];
    const doRun = async (key: string, label: string, flood: Phase2Run["flood"]): Promise<Phase2Run> => {
      if (flood !== "none") await setSideline(p, flooder, flood);
      log(`phase 2 ${label}: ${quiet.length} quiet x ${QUIET_RATE}/s${flood === "none" ? "" : ` + flooder ${floodRate}/s (sideline ${flood})`} for ${RUN_S} s`);
      const plans: Plan[] = quiet.map((t) => ({ tenant: t, ratePerS: QUIET_RATE, prefix: `p2-${key}-${t.label}` }));
      if (flood !== "none") plans.push({ tenant: flooder, ratePerS: floodRate, prefix: `p2-${key}-flooder` });
      const watcher = flood === "none" ? undefined : watchSideline(p, flooder);
      cpu.start();
      handlersSlow = true;
      const sendStart = wallNow();
      const events = await openLoop(p, plans, RUN_S);
      const sendEnd = wallNow();
      if (FAST_DRAIN) handlersSlow = false;
      const sideline = await watcher?.stop();
      const c = cpu.stop();
      allEvents.push(...events);
      const cellsAtSendEnd = await cells(p).catch(() => undefined);
      const drained = await drain(r, events, DRAIN_S);
      if (drained.left) log(`  ${drained.left} events of this run had not started after ${DRAIN_S} s; going on (they are counted at the end)`);
      const run: Phase2Run = {
        key,
        label,
        flood,
        events,
        sendStart,
        sendEnd,
        cpu: c,
        drain: drained,
        ...(sideline ? { sideline } : {}),
        ...(cellsAtSendEnd ? { cellsAtSendEnd } : {}),
      };
      runs.push(run);
      await sleep(1500);
      return run;
    };
    // No-flood runs before and after the flood runs: this machine is shared and its background load
    // drifts; pooling both gives each quiet tenant a baseline that brackets the flood runs.
    const baseline = await doRun("base", "(i) no flood, before", "none");
    const off = await doRun("off", '(ii) flood, sideline "off"', "off");
    const sidelineRuns: Phase2Run[] = [];
    for (const mode of SIDELINE_RUNS) sidelineRuns.push(await doRun(mode, `(iii) flood, sideline "${mode}"`, mode));
    const baselineAfter = BASELINE_AFTER ? await doRun("base2", "(i') no flood, after", "none") : undefined;
    const floodRuns = [off, ...sidelineRuns];

    // Last chance for every accepted event: whatever has not started now is reported as missing.
    const finalDrain = await drain(r, allEvents, FINAL_DRAIN_S);
    log(`final drain: ${finalDrain.left} accepted events without a handler start after ${f1(finalDrain.waitedS)} s more`);

    // ---------------- Report
    const lines: string[] = [];
    const out = (line = "") => lines.push(line);
    let missingExplained: Record<string, number> | undefined;
    const allStats: Array<[string, RunStats]> = [];
    let phase1Json: Record<string, unknown> | undefined;

    if (p1) {
      const steady = stats(r, p1.steady.events);
      const sat = stats(r, p1.sat.events);
      allStats.push(["phase 1 steady", steady], ["phase 1 saturation", sat]);
      const { start: satStart, sendEnd: satSendEnd } = p1.sat;
      const starts = startTimes(r, p1.sat.events);
      const lastStart = starts.at(-1) ?? Number.NaN;
      const steadyFrom = satStart + 2000;
      const ackRate = sat.accepted / ((satSendEnd - satStart) / 1000);
      const startsDuringSend = countIn(starts, steadyFrom, satSendEnd) / ((satSendEnd - steadyFrom) / 1000);
      const startsOverall = starts.length / ((lastStart - satStart) / 1000);
      let peak5 = 0;
      for (let i = 0, j = 0; i < starts.length; i++) {
        while (starts[j]! < starts[i]! - 5000) j++;
        peak5 = Math.max(peak5, (i - j + 1) / 5);
      }
      const backlogAtSendEnd = sat.accepted - countIn(starts, -Infinity, satSendEnd);
      // Headline: accepted events over the time from the first send to the last handler start
      // (the pipeline's rate when fed as fast as it acknowledges).
      const saturationRate = startsOverall;
      out(
        `phase 1: one tenant, one function (cell ${solo.cell}, shard queues [${solo.shard.join(", ")}] of ${QUEUES_PER_CELL}, sideline mode "off"); ` +
          `the handler only POSTs its start to the receiver (answered at once)`,
      );
      out(
        table(
          ["run", "sent", "accepted", "ack p50 ms", "ack p99 ms", "e2e p50 ms", "e2e p99 ms", "e2e max ms", "missing", "errors", "CPU machine avg/max", "busiest server thread avg/max"],
          (
            [
              [`steady ${STEADY_RATE}/s x ${STEADY_S} s (open loop)`, steady, p1.steady.cpu],
              [`saturation ${SAT_CONCURRENCY} senders x ${SAT_S} s (closed loop)`, sat, p1.sat.cpu],
            ] as const
          ).map(([label, s, c]) => [
            label,
            String(s.sent),
            String(s.accepted),
            f1(s.ack.p50),
            f1(s.ack.p99),
            f0(s.e2e.p50),
            f0(s.e2e.p99),
            f0(s.e2e.max),
            String(s.missing),
            errorText(s),
            `${pct(c.machineAvg)} / ${pct(c.machineMax)}`,
            `${pct(c.busiestThreadAvg)} / ${pct(c.busiestThreadMax)} (${c.busiestThreadName})`,
          ]),
          [0, 9],
        ),
      );
      out(
        `saturation: acks at ${f1(ackRate)} events/s; handler starts ${f1(startsDuringSend)}/s while sending (after the first 2 s), ` +
          `${f1(peak5)}/s over the busiest 5 s, ${f1(startsOverall)}/s from the first send to the last start (${f1((lastStart - satStart) / 1000)} s); ` +
          `backlog when sending stopped: ${backlogAtSendEnd} events, all started ${f1(p1.sat.drain.waitedS)} s later${p1.sat.drain.left ? ` (${p1.sat.drain.left} not yet)` : ""}`,
      );
      out(
        `=> enqueue ack p50 ${f1(steady.ack.p50)} ms / p99 ${f1(steady.ack.p99)} ms; end-to-end p50 ${f0(steady.e2e.p50)} ms / p99 ${f0(steady.e2e.p99)} ms ` +
          `(steady ${STEADY_RATE}/s); events/s at saturation: ${f1(saturationRate)} (one function, ${SHARD_SIZE} queues: ${sat.accepted} accepted at ${f1(ackRate)}/s, ` +
          `handlers started at ${f1(startsDuringSend)}/s while acks took the CPU and ${f1(peak5)}/s once they stopped)`,
      );
      phase1Json = {
        tenant: { tenantId: solo.creds.tenantId, cell: solo.cell, shard: solo.shard, sideline: "off" },
        steady: { rate: STEADY_RATE, durationS: STEADY_S, drain: p1.steady.drain, cpu: p1.steady.cpu, ...steady },
        saturation: {
          concurrency: SAT_CONCURRENCY,
          durationS: SAT_S,
          maxEvents: SAT_MAX,
          drain: p1.sat.drain,
          cpu: p1.sat.cpu,
          ackRate,
          startsDuringSend,
          startsPeak5s: peak5,
          startsOverall,
          backlogAtSendEnd,
          eventsPerSecondAtSaturation: saturationRate,
          ...sat,
        },
      };
    }

    // Phase 2
    const floodCell = flooder.cell;
    const overlapOf = (t: Tenant) => (t.cell === floodCell ? t.shard.filter((q) => flooder.shard.includes(q)).length : 0);
    const perTenant = (run: Phase2Run) => Object.fromEntries(quiet.map((t) => [t.label, stats(r, run.events.filter((e) => e.tenant === t.label))]));
    const runStats = runs.map((run) => {
      const quietStats = stats(r, run.events.filter((e) => e.tenant !== "flooder"));
      const flooderEvents = run.events.filter((e) => e.tenant === "flooder");
      const flood = run.flood === "none" ? undefined : stats(r, flooderEvents);
      const floodStarts = startTimes(r, flooderEvents);
      const from = run.sendStart + 5000;
      const floodThroughput = run.flood === "none" ? Number.NaN : countIn(floodStarts, from, run.sendEnd) / ((run.sendEnd - from) / 1000);
      const floodBacklog = flood ? flood.accepted - countIn(floodStarts, -Infinity, run.sendEnd) : 0;
      // The flood's delays while the run lasted (handlers ran HANDLER_MS); the backlog left drained faster.
      const floodDuring = flood
        ? dist(
            flooderEvents
              .filter((e) => !e.error && (r.starts.get(e.id)?.t ?? Infinity) <= run.sendEnd)
              .map((e) => r.starts.get(e.id)!.t - e.ackAt!),
          )
        : undefined;
      // Quiet events that waited in a backlog past the end of sending: the fast drain shortened their delay.
      // (only when the drain was sped up: otherwise a late start is a genuine delay)
      const late = Object.fromEntries(
        quiet.map((t) => [
          t.label,
          !FAST_DRAIN ? 0 : run.events.filter((e) => e.tenant === t.label && !e.error && (r.starts.get(e.id)?.t ?? Infinity) > run.sendEnd + LATE_MARGIN_MS).length,
        ]),
      );
      allStats.push([`${run.label} quiet`, quietStats]);
      if (flood) allStats.push([`${run.label} flooder`, flood]);
      return { run, quiet: quietStats, flood, perTenant: perTenant(run), floodThroughput, floodBacklog, floodDuring, late };
    });
    const statsOf = (run: Phase2Run) => runStats.find((x) => x.run === run)!;
    const baseEvents = [...baseline.events, ...(baselineAfter?.events ?? [])];
    const base = { perTenant: Object.fromEntries(quiet.map((t) => [t.label, stats(r, baseEvents.filter((e) => e.tenant === t.label))])) };

    const sameCell = quiet.filter((t) => t.cell === floodCell);
    const overlap1 = quiet.filter((t) => overlapOf(t) >= 1);
    const overlap2 = quiet.filter((t) => overlapOf(t) >= SHARD_SIZE);
    const choose = (n: number, k: number): number => (k < 0 || k > n ? 0 : k === 0 ? 1 : (choose(n - 1, k - 1) * n) / k);
    const hyper = (x: number) => (choose(SHARD_SIZE, x) * choose(QUEUES_PER_CELL - SHARD_SIZE, SHARD_SIZE - x)) / choose(QUEUES_PER_CELL, SHARD_SIZE);
    const priorAny = (1 - hyper(0)) / CELL_COUNT;
    const priorFull = hyper(SHARD_SIZE) / CELL_COUNT;
    const shareAny = overlap1.length / quiet.length;
    const shareFull = overlap2.length / quiet.length;
    const rose = (run: Phase2Run, t: Tenant) => {
      const b = base.perTenant[t.label]!;
      const f = statsOf(run).perTenant[t.label]!;
      // A quiet event lost or refused under the flood counts as a rise (its delay is unbounded).
      if (f.missing > 0 || Object.keys(f.errors).length > 0) return true;
      return f.e2e.p99 > b.e2e.p99 * (1 + RISE_THRESHOLD);
    };

    out("");
    out(
      `phase 2: noisy neighbour. ${quiet.length} quiet tenants x ${QUIET_RATE} event/s each (open loop, fixed schedule, random phase) ` +
        `+ one flooder at ${floodRate} events/s (${FLOOD_FACTOR}x), ${RUN_S} s per run; handlers run ${HANDLER_MS} ms (the receiver holds its reply: I/O wait, no CPU)`,
    );
    out(
      `layout: ${CELL_COUNT} cells x ${QUEUES_PER_CELL} queues, shard size ${SHARD_SIZE}, max_batch_size ${MAX_BATCH_SIZE}, max_batch_timeout ${MAX_BATCH_TIMEOUT_S} s. ` +
        `flooder ${flooder.creds.tenantId}: cell ${floodCell}, queues [${flooder.shard.join(", ")}]. auto-sideline rule: > ${FLOOD_MIN_EVENTS} events in a ` +
        `${SIDELINE_WINDOW_MS / 1000} s window and > ${FLOOD_SHARE * 100} % of the cell's (the flooder sends ${floodRate * (SIDELINE_WINDOW_MS / 1000)} per window)`,
    );
    out("");
    const head = ["quiet tenant", "cell", "shard", "overlap", baselineAfter ? "no-flood p99 ms (before/after)" : "no-flood p99 ms", ...floodRuns.flatMap((run) => [`${run.key} p99 ms`, `${run.key} rise`])];
    const body = quiet.map((t) => {
      const b = base.perTenant[t.label]!;
      return [
        t.label,
        String(t.cell),
        `[${t.shard.join(",")}]`,
        t.cell !== floodCell ? "other cell" : `${overlapOf(t)} queue${overlapOf(t) === 1 ? "" : "s"}`,
        f0(b.e2e.p99) +
          (baselineAfter
            ? ` (${f0(statsOf(baseline).perTenant[t.label]!.e2e.p99)}/${f0(statsOf(baselineAfter).perTenant[t.label]!.e2e.p99)})`
            : "") +
          (b.missing ? ` (${b.missing} missing)` : ""),
        ...floodRuns.flatMap((run) => {
          const f = statsOf(run).perTenant[t.label]!;
          const rise = f.e2e.p99 / b.e2e.p99 - 1;
          const lower = (statsOf(run).late[t.label] ?? 0) > 0 ? ">=" : "";
          return [
            lower + f0(f.e2e.p99) + (f.missing ? ` (${f.missing} missing)` : "") + (Object.keys(f.errors).length ? ` (${errorText(f)} errors)` : ""),
            `${rise >= 0 ? "+" : ""}${f0(rise * 100)} %${rose(run, t) ? " *" : ""}`,
          ];
        }),
      ];
    });
    out(table(head, body, [0, 2, 3]));
    out(
      `(* = p99 rose more than ${RISE_THRESHOLD * 100} % over the no-flood p99${baselineAfter ? " (both no-flood runs pooled)" : ""}, or an event was lost or refused; ` +
        `each p99 is over ~${Math.round(QUIET_RATE * RUN_S)} events, so it is close to the max; >= : some of its events were still queued when sending stopped ` +
        `and then drained with handlers returning at once, so the true p99 is higher)`,
    );
    out("");
    out(
      table(
        ["run", "quiet sent", "quiet e2e p50/p99 ms", "quiet ack p99 ms", "flood sent", "flood e2e p50/p99 ms (during run)", "flood starts/s", "flood backlog at end", "sidelined (on/back)", "missing", "errors", "all started after", "CPU machine avg/max", "of it other procs", "busiest server thread avg/max"],
        runStats.map(({ run, quiet: q, flood, floodThroughput, floodBacklog, floodDuring }) => [
          run.label,
          String(q.sent),
          `${f0(q.e2e.p50)} / ${f0(q.e2e.p99)}`,
          f1(q.ack.p99),
          flood ? String(flood.sent) : "-",
          floodDuring ? `${f0(floodDuring.p50)} / ${f0(floodDuring.p99)}` : "-",
          flood ? f1(floodThroughput) : "-",
          flood ? String(floodBacklog) : "-",
          run.sideline ? `${pct(run.sideline.sidelinedPolls / Math.max(1, run.sideline.polls))} (${run.sideline.sidelined}/${run.sideline.back})` : "-",
          `${q.missing}${flood ? ` + ${flood.missing} flood` : ""}`,
          `${errorText(q)}${flood ? ` + ${errorText(flood)} flood` : ""}`,
          run.drain.left ? `> ${f0(run.drain.waitedS)} s (${run.drain.left} left)` : `${f1(run.drain.waitedS)} s`,
          `${pct(run.cpu.machineAvg)} / ${pct(run.cpu.machineMax)}`,
          pct(run.cpu.othersAvg),
          `${pct(run.cpu.busiestThreadAvg)} / ${pct(run.cpu.busiestThreadMax)}`,
        ]),
        [0, 9, 10],
      ),
    );
    out(
      `(flood e2e: events whose handler started before sending stopped; flood starts/s: the flooder's handler starts per second from 5 s into the run to its end, ` +
        `with a backlog that is what its queues drain; after each run handlers return at once and the backlog drains fast: "all started after")`,
    );
    const depthLine = (run: Phase2Run) => {
      const cell = run.cellsAtSendEnd?.find((c) => c.cell === floodCell);
      if (!cell) return "-";
      return Object.entries(cell.depths)
        .filter(([, n]) => n > 0)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([q, n]) => `${q.replace(`cellfn-async-${floodCell}-`, "")}:${n}`)
        .join(" ") || "all 0";
    };
    out(`queue depths in the flooder's cell when sending stopped (QueueManager estimate): ${runs.map((run) => `${run.key} [${depthLine(run)}]`).join("; ")}`);
    out("");
    out(
      `placement: ${sameCell.length} of ${quiet.length} quiet tenants are in the flooder's cell; ${overlap1.length} share >= 1 of its queues (${pct(shareAny)}), ` +
        `${overlap2.length} share both (${pct(shareFull)}). A priori (1/${CELL_COUNT} same cell x hypergeometric ${SHARD_SIZE}-of-${QUEUES_PER_CELL}): ` +
        `>= 1 queue ${pct(priorAny)}, both ${pct(priorFull)}.`,
    );
    // Per overlap class, all the class's events pooled: many more samples than one tenant's p99.
    const classes: Array<{ name: string; members: Tenant[] }> = [
      { name: "both queues shared", members: quiet.filter((t) => t.cell === floodCell && overlapOf(t) >= SHARD_SIZE) },
      { name: "one queue shared", members: quiet.filter((t) => t.cell === floodCell && overlapOf(t) > 0 && overlapOf(t) < SHARD_SIZE) },
      { name: "same cell, none shared", members: quiet.filter((t) => t.cell === floodCell && overlapOf(t) === 0) },
      { name: "other cell", members: quiet.filter((t) => t.cell !== floodCell) },
    ].filter((c) => c.members.length > 0);
    const classDist = (events: SentEvent[], members: Tenant[]) => {
      const labels = new Set(members.map((t) => t.label));
      return stats(r, events.filter((e) => labels.has(e.tenant))).e2e;
    };
    const classTable = classes.map((c) => {
      const b = classDist(baseEvents, c.members);
      return {
        class: c.name,
        tenants: c.members.map((t) => t.label),
        baseline: b,
        runs: Object.fromEntries(
          floodRuns.map((run) => {
            const d = classDist(run.events, c.members);
            const late = c.members.some((t) => (statsOf(run).late[t.label] ?? 0) > 0);
            return [run.key, { ...d, p99Rise: d.p99 / b.p99 - 1, lowerBound: late }];
          }),
        ),
      };
    });
    out("");
    out(
      table(
        ["overlap with the flooder (tenants)", "events", "no-flood p50/p99 ms", ...floodRuns.map((run) => `${run.key} p50/p99 ms (p99 rise)`)],
        classTable.map((c) => [
          `${c.class} (${c.tenants.length})`,
          String(c.baseline.n),
          `${f0(c.baseline.p50)} / ${f0(c.baseline.p99)}`,
          ...floodRuns.map((run) => {
            const d = c.runs[run.key]!;
            return `${f0(d.p50)} / ${d.lowerBound ? ">=" : ""}${f0(d.p99)} (${d.p99Rise >= 0 ? "+" : ""}${f0(d.p99Rise * 100)} %)`;
          }),
        ]),
        [0],
      ),
    );
    out(`(each class's quiet events pooled per run; "events" = the class's events in the no-flood runs)`);
    out("");
    // A/A: how often does a quiet tenant's p99 move by more than the threshold between two no-flood runs?
    let noiseFloor: { roseAfter: number; fellAfter: number; rate: number } | undefined;
    if (baselineAfter) {
      const before = statsOf(baseline).perTenant;
      const after = statsOf(baselineAfter).perTenant;
      const roseAfter = quiet.filter((t) => after[t.label]!.e2e.p99 > before[t.label]!.e2e.p99 * (1 + RISE_THRESHOLD)).length;
      const fellAfter = quiet.filter((t) => before[t.label]!.e2e.p99 > after[t.label]!.e2e.p99 * (1 + RISE_THRESHOLD)).length;
      noiseFloor = { roseAfter, fellAfter, rate: (roseAfter + fellAfter) / (2 * quiet.length) };
      out(
        `noise floor (A/A, no flood vs no flood): from (i) to (i'), ${roseAfter} of ${quiet.length} quiet tenants' p99 rose > ${RISE_THRESHOLD * 100} % and ${fellAfter} fell by as much, ` +
          `i.e. a tenant crosses the threshold by chance ${pct(noiseFloor.rate)} of the time (flood runs are compared with both runs pooled, which is stricter)`,
      );
    }
    const checks: Array<Record<string, unknown>> = [];
    for (const run of floodRuns) {
      const risen = quiet.filter((t) => rose(run, t));
      const share = risen.length / quiet.length;
      const byOverlap = (n: number | "other") => risen.filter((t) => (n === "other" ? t.cell !== floodCell : t.cell === floodCell && overlapOf(t) === n)).length;
      const target = run.flood === "off" ? shareAny : 0;
      const pass = share <= target + 1e-9;
      const saturated = run.cpu.machineAvg >= SATURATED_CPU || run.cpu.busiestThreadAvg >= SATURATED_CPU;
      out(
        `${run.label}: ${risen.length} of ${quiet.length} quiet tenants rose > ${RISE_THRESHOLD * 100} % (${pct(share)}): ` +
          `${byOverlap(2)} sharing both queues, ${byOverlap(1)} sharing one, ${byOverlap(0)} same cell sharing none, ${byOverlap("other")} other cell. ` +
          (run.flood === "off"
            ? `target <= overlap share ${pct(shareAny)}: ${pass ? "PASS" : "MISS"}; against the full-overlap share ${pct(shareFull)}: ${share <= shareFull + 1e-9 ? "PASS" : "MISS"}`
            : `target 0: ${pass ? "PASS" : "MISS"}`) +
          (saturated
            ? `. WARNING: CPU saturated (machine avg ${pct(run.cpu.machineAvg)}, busiest server thread avg ${pct(run.cpu.busiestThreadAvg)}): every tenant slows regardless of queues`
            : run.cpu.busiestThreadAvg >= BUSY_CPU || run.cpu.machineAvg >= BUSY_CPU
              ? `. Note: CPU busy but not saturated (machine avg ${pct(run.cpu.machineAvg)}, busiest server thread avg ${pct(run.cpu.busiestThreadAvg)}): the flood's processing competes with everyone's`
              : ""),
      );
      // Diagnostic: the slowdown every tenant got (CPU, the shared workerd) is the median rise of the
      // tenants that share no queue with the flooder; what remains beyond it is the queues' doing.
      const control = quiet.filter((t) => overlapOf(t) === 0);
      const ratio = (t: Tenant) => statsOf(run).perTenant[t.label]!.e2e.p99 / base.perTenant[t.label]!.e2e.p99;
      const controlMedian = percentile(control.map(ratio).sort((a, b) => a - b), 50);
      const beyond = quiet.filter((t) => {
        const f = statsOf(run).perTenant[t.label]!;
        return f.missing > 0 || Object.keys(f.errors).length > 0 || ratio(t) / controlMedian > 1 + RISE_THRESHOLD;
      });
      out(
        `    diagnostic: the ${control.length} tenants sharing no queue with the flooder rose by a median ${pct(controlMedian - 1)} (machine-wide slowdown); ` +
          `beyond that, ${beyond.length} rose > ${RISE_THRESHOLD * 100} % (${pct(beyond.length / quiet.length)}, against the target: ` +
          `${beyond.length / quiet.length <= target + 1e-9 ? "PASS" : "MISS"}): ${beyond.map((t) => `${t.label} (${t.cell === floodCell ? `${overlapOf(t)} shared` : "other cell"})`).join(", ") || "none"}`,
      );
      checks.push({
        controlMedianRise: controlMedian - 1,
        beyondMachineWide: beyond.map((t) => t.label),
        passBeyondMachineWide: beyond.length / quiet.length <= target + 1e-9,
        run: run.key,
        sideline: run.flood,
        risen: risen.map((t) => t.label),
        share,
        target,
        pass,
        fullOverlapShare: shareFull,
        passAgainstFullOverlap: share <= shareFull + 1e-9,
        risenByOverlap: { both: byOverlap(2), one: byOverlap(1), none: byOverlap(0), otherCell: byOverlap("other") },
        cpuSaturated: saturated,
        ...(run.sideline ? { sideline: run.sideline } : {}),
      });
    }
    const autoRun = sidelineRuns.find((run) => run.flood === "auto");
    if (autoRun?.sideline) {
      const w = autoRun.sideline;
      out(
        w.sidelined === 0
          ? `auto sidelining did NOT trigger at ${floodRate} events/s (${w.polls} polls of GET /admin/cells): the "on" run is the sidelined case`
          : `auto sidelining triggered ${f1(w.firstSidelinedAfterS ?? Number.NaN)} s into the run; the flooder was sidelined in ${pct(w.sidelinedPolls / w.polls)} ` +
              `of ${w.polls} polls of GET /admin/cells (${w.sidelined}x sidelined, ${w.back}x back on its shard while still sending ${floodRate}/s)`,
      );
    }
    out(
      `(sidelined (on/back): share of twice-a-second polls of GET /admin/cells that found the flooder sidelined, and how often it went to the sideline queue / back to its shard)`,
    );

    // Totals, errors, machine
    const totalErrors = allStats.reduce((n, [, s]) => n + Object.values(s.errors).reduce((a, b) => a + b, 0), 0);
    const totalMissing = allStats.reduce((n, [, s]) => n + s.missing, 0);
    const totalDup = allStats.reduce((n, [, s]) => n + s.duplicateStarts, 0);
    out("");
    out(
      `end-to-end delay = handler start (its Date.now()) - 202 arrival. ` +
        (MAX_BATCH_TIMEOUT_S > 0
          ? `A queue hands its consumer a batch when ${MAX_BATCH_SIZE} messages wait or max_batch_timeout = ${MAX_BATCH_TIMEOUT_S} s after the first arrived, ` +
            `so an event on a quiet queue waits up to ${MAX_BATCH_TIMEOUT_S} s before delivery.`
          : `max_batch_timeout = 0: a queue hands its consumer a batch as soon as a message waits, one batch in flight per queue (local Miniflare broker), ` +
            `so an event that arrives while its queue's batch runs waits for that batch to finish.`),
    );
    if (totalErrors || totalMissing) {
      out(`WARNING: ${totalErrors} events not accepted, ${totalMissing} accepted events whose handler had not started by the end (after a final drain of up to ${FINAL_DRAIN_S} s):`);
      for (const [label, s] of allStats) {
        for (const [kind, sample] of Object.entries(s.errorSamples)) out(`  ${label}: ${kind} x${s.errors[kind]}: ${sample}`);
        if (s.missing) out(`  ${label}: ${s.missing} accepted but never started, e.g. ${s.missingIds.slice(0, 5).join(", ")}`);
      }
      if (totalMissing) {
        const missingEvents = allEvents.filter((e) => !e.error && !r.starts.has(e.id));
        missingExplained = await explainMissing(p, all, missingEvents);
        out(`  where they are: ${Object.entries(missingExplained).map(([k, v]) => `${k}: ${v}`).join("; ")}`);
        const logPath = path.join(ROOT, "bench", "results", "async-wrangler.log");
        writeFileSync(logPath, p.output());
        out(`  wrangler output (last 256 KB) saved to ${path.relative(ROOT, logPath)}`);
      }
    } else {
      out(`no errors: all ${allStats.reduce((n, [, s]) => n + s.sent, 0)} events sent were answered 202 and every handler started`);
    }
    if (totalDup) out(`note: ${totalDup} handler starts repeated an event that had already started (at-least-once delivery)`);
    const logCounts = logSummary(p);
    if (Object.keys(logCounts).length) out(`platform log lines (last 256 KB of wrangler output): ${Object.entries(logCounts).map(([k, v]) => `"${k}" x${v}`).join(", ")}`);
    out(`receiver: ${[...r.starts.keys()].filter((id) => !sentIds.has(id)).length} starts for ids this bench never sent, ${r.bad} unreadable POSTs`);
    const cpuRuns: Array<[string, CpuSummary]> = [
      ...(p1 ? ([["steady", p1.steady.cpu], ["saturation", p1.sat.cpu]] as Array<[string, CpuSummary]>) : []),
      ...runs.map((run): [string, CpuSummary] => [run.key, run.cpu]),
    ];
    out(
      `CPU share of the machine while sending (this bench + its wrangler/workerd | other processes): ` +
        cpuRuns.map(([k, c]) => `${k} ${pct(c.oursAvg)} | ${pct(c.othersAvg)}`).join("; "),
    );
    const worstOthers = Math.max(...cpuRuns.map(([, c]) => c.othersAvg).filter(Number.isFinite), 0);
    if (worstOthers > 0.1) out(`WARNING: other processes used up to ${pct(worstOthers)} of the machine's CPU while measuring (a shared machine): absolute delays are inflated`);
    out(`load average (1/5/15 min) at the end: ${os.loadavg().map((v) => v.toFixed(2)).join(" ")} (${os.cpus().length} CPUs); total run time ${((Date.now() - begun) / 1000).toFixed(0)} s`);
    process.stdout.write(`${lines.join("\n")}\n`);

    const wranglerVersion = JSON.parse(readFileSync(path.join(ROOT, "node_modules", "wrangler", "package.json"), "utf8")).version as string;
    mkdirSync(path.dirname(RESULTS), { recursive: true });
    writeFileSync(
      RESULTS,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, wrangler: wranglerVersion, platform: `${os.platform()} ${os.release()}` },
          settings: {
            steadyRate: STEADY_RATE,
            steadyS: STEADY_S,
            satS: SAT_S,
            satConcurrency: SAT_CONCURRENCY,
            satMax: SAT_MAX,
            quietTenants: QUIET_TENANTS,
            quietRate: QUIET_RATE,
            floodFactor: FLOOD_FACTOR,
            floodRate,
            phase2HandlerMs: HANDLER_MS,
            runS: RUN_S,
            drainS: DRAIN_S,
            finalDrainS: FINAL_DRAIN_S,
            sidelineRuns: SIDELINE_RUNS,
            riseThreshold: RISE_THRESHOLD,
            layout: { cells: CELL_COUNT, queuesPerCell: QUEUES_PER_CELL, shardSize: SHARD_SIZE, maxBatchSize: MAX_BATCH_SIZE, maxBatchTimeoutS: MAX_BATCH_TIMEOUT_S },
            handler: asyncHandlerSource(0).replace("127.0.0.1:0", "127.0.0.1:<port>"),
          },
          phase1: phase1Json,
          phase2: {
            flooder: { tenantId: flooder.creds.tenantId, cell: flooder.cell, shard: flooder.shard },
            quietTenants: quiet.map((t) => ({ label: t.label, tenantId: t.creds.tenantId, cell: t.cell, shard: t.shard, overlap: overlapOf(t) })),
            noiseFloor,
            byOverlapClass: classTable,
            placement: { sameCell: sameCell.length, overlapAny: overlap1.length, overlapFull: overlap2.length, shareAny, shareFull, priorAny, priorFull },
            runs: runStats.map(({ run, quiet: q, flood, perTenant: pt, floodThroughput, floodBacklog, floodDuring, late }) => ({
              key: run.key,
              label: run.label,
              sidelineMode: run.flood,
              cpu: run.cpu,
              drain: run.drain,
              sidelineWatch: run.sideline,
              cellsAtSendEnd: run.cellsAtSendEnd,
              quiet: q,
              flooder: flood,
              floodStartsPerSecond: floodThroughput,
              floodBacklogAtSendEnd: floodBacklog,
              floodE2eStartedWhileSending: floodDuring,
              quietStartedLateByTenant: late,
              perTenant: pt,
            })),
            checks,
          },
          finalDrain,
          totals: { errors: totalErrors, missing: totalMissing, duplicateStarts: totalDup, missingExplained, platformLogLines: logCounts },
        },
        null,
        2,
      )}\n`,
    );
    log(`results written to ${path.relative(ROOT, RESULTS)}`);
    if (totalErrors || totalMissing) process.exitCode = 1;
  } finally {
    log("shutting down");
    cpu.stop();
    agent.destroy();
    await Promise.allSettled([platform?.stop(), receiver?.close()]);
  }
}

main().catch((err) => {
  process.stderr.write(`[bench:async] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
