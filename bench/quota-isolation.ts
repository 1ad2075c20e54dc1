/**
 * `npm run bench:quotas`: does one tenant exhausting its quotas leave another
 * tenant's latency and goodput within 20 % of its solo figures? (issue 19)
 *
 * Starts cellfn (`wrangler dev`, test/e2e/harness.ts) once per socket of
 * BENCH_QUOTAS_VIA (default `proxy,direct`: wrangler dev's proxy workerd, then
 * the user worker's own socket behind it, as the edge reaches it on
 * Cloudflare; test/e2e/inner-socket.ts). Tenant "steady" runs a
 * closed loop of BENCH_QUOTAS_CONCURRENCY sync invokes of a tiny function
 * (bearer auth, keep-alive), or BENCH_QUOTAS_STEADY_RPS invokes a second in
 * an open loop, and records each latency. Tenant "abuser" has
 * exhausted its quotas: concurrencyLimit BENCH_QUOTAS_ABUSER_CONCURRENCY (4), codeStorageLimit equal to what it
 * already stores. During the "flooded" phases it hammers at the same time:
 * sync invokes at BENCH_QUOTAS_FLOOD_INVOKERS in parallel (mostly 429),
 * CreateFunction in BENCH_QUOTAS_FLOOD_CREATORS loops (every one refused, with
 * CodeStorageExceededException or past Lambda's 15 a second with a 429), and SendMessage to its SQS queue in
 * BENCH_QUOTAS_FLOOD_SENDERS loops (filling it). Solo and flooded phases of
 * BENCH_QUOTAS_PHASE_S seconds alternate for BENCH_QUOTAS_ROUNDS rounds (this
 * machine is shared; interleaving spreads its drift over both).
 *
 * Prints steady's p50 / p95 latency and goodput (successful invokes/s) solo
 * and flooded, their ratios, what the abuser got, and the 20 % targets; writes
 * bench/results/quotas-latest.json. All the load runs on one workerd process
 * on this machine, so the ratios measure cellfn's protection (throttles and
 * refusals are cheap) and the CPU the refused requests still cost, not a fleet.
 */
import http from "node:http";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { adminFetch, createTenantWithKey, ROOT, startPlatform, type Platform, type TenantCredentials } from "../test/e2e/harness";
import { DEFAULT_API_REQUEST_RATE } from "../src/lambda/quotas";
import { makeZipBase64 } from "../test/fixtures/zips";
import { HANDLER_SOURCE } from "./handler";
import { postLocal } from "./lib/http";
import { deployFunction, percentile } from "./lib/lambda";
import { busiestWorkerdShare, workerdMainThreadJiffies } from "./lib/proc";
import { envNumber } from "./lib/settings";

const PHASE_S = envNumber("BENCH_QUOTAS_PHASE_S", 8);
const ROUNDS = Math.floor(envNumber("BENCH_QUOTAS_ROUNDS", 3));
const CONCURRENCY = Math.floor(envNumber("BENCH_QUOTAS_CONCURRENCY", 4));
/**
 * 0 (default): the steady tenant is BENCH_QUOTAS_CONCURRENCY closed loops, which alone keep the
 * workerd thread busy; above 0: that many invokes a second on a fixed schedule (an open loop,
 * a tenant whose load does not depend on the platform's speed), which leaves the thread idle time.
 */
const STEADY_RPS = envNumber("BENCH_QUOTAS_STEADY_RPS", 0, true);
const FLOOD_INVOKERS = Math.floor(envNumber("BENCH_QUOTAS_FLOOD_INVOKERS", 16, true));
const FLOOD_CREATORS = Math.floor(envNumber("BENCH_QUOTAS_FLOOD_CREATORS", 4, true));
const FLOOD_SENDERS = Math.floor(envNumber("BENCH_QUOTAS_FLOOD_SENDERS", 8, true));
/** The abuser's concurrencyLimit; 0 makes every one of its invokes a 429 (only refusals left). */
const ABUSER_CONCURRENCY = Math.floor(envNumber("BENCH_QUOTAS_ABUSER_CONCURRENCY", 4, true));
/**
 * After a throttle (a 429, or a JSON service's throttling code), an abuser loop waits a random
 * time up to this many ms before its next request, as an AWS SDK's retry backs off (full jitter);
 * 0 (default): it comes straight back, as a client that ignores throttles does.
 */
const ABUSER_BACKOFF_MS = envNumber("BENCH_QUOTAS_ABUSER_BACKOFF_MS", 0, true);
const THROTTLE_CODE = /TooManyRequestsException|RequestThrottled|LimitExceededException|ThrottlingException|"Throttling"/;
/** Which sockets to drive, in turn (test/e2e/inner-socket.ts): wrangler dev's proxy and/or the user worker's own socket. */
const VIAS = (process.env.BENCH_QUOTAS_VIA ?? "proxy,direct").split(",") as ("proxy" | "direct")[];
const TIMEOUT_MS = 10_000;
const TARGET_RATIO = 1.2;

interface PhaseStats {
  latencies: number[];
  ok: number;
  failed: number;
  /** The failed answers by status (`error`: none within TIMEOUT_MS or a network error). */
  failures: Counts;
  seconds: number;
  /** How busy the user worker's workerd thread was (it runs every tenant's requests): 0..1. */
  threadBusy: number;
}
type Counts = Record<string, number>;

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** One sync invoke of the steady tenant's function, counted into `stats`. */
async function steadyInvoke(port: number, creds: TenantCredentials, stats: PhaseStats): Promise<void> {
  const started = performance.now();
  const reply = await postLocal(agent, port, "/2015-03-31/functions/steady/invocations", { authorization: `Bearer ${creds.token}` }, '{"n":1}', TIMEOUT_MS).catch(() => null);
  if (reply?.status === 200) {
    stats.latencies.push(performance.now() - started);
    stats.ok += 1;
  } else {
    stats.failed += 1;
    // Lambda names its error in a header, and a 429's body says why (its Reason).
    const reason = reply && /"Reason":"(\w+)"/.exec(reply.body)?.[1];
    const kind = reply === null ? "error" : `${reply.status}${reason ? ` ${reason}` : ""}`;
    stats.failures[kind] = (stats.failures[kind] ?? 0) + 1;
  }
}

async function closedLoop(port: number, creds: TenantCredentials, until: number, stats: PhaseStats): Promise<void> {
  while (Date.now() < until) await steadyInvoke(port, creds, stats);
}

/** STEADY_RPS invokes a second on a fixed schedule, whatever the answers (independent clients), until `until`. */
async function openLoop(port: number, creds: TenantCredentials, until: number, stats: PhaseStats): Promise<void> {
  const inFlight: Promise<void>[] = [];
  const start = Date.now();
  for (let n = 0; ; n++) {
    const at = start + (n * 1000) / STEADY_RPS;
    if (at >= until) break;
    const wait = at - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(steadyInvoke(port, creds, stats));
  }
  await Promise.all(inFlight);
}

/** One kind of abuse, back to back until `until`; counts the answers by status. */
async function abuse(port: number, request: () => { path: string; headers: Record<string, string>; body: string }, until: number, counts: Counts): Promise<void> {
  while (Date.now() < until) {
    const { path: urlPath, headers, body } = request();
    const reply = await postLocal(agent, port, urlPath, headers, body, TIMEOUT_MS).catch(() => null);
    // The door refuses every route in its service's own throttling shape (SQS's is a 400): counted apart.
    const throttled = reply !== null && (reply.status === 429 || THROTTLE_CODE.test(reply.body));
    const key = `${reply?.status ?? "error"}${throttled ? " throttled" : ""}`;
    counts[key] = (counts[key] ?? 0) + 1;
    if (throttled && ABUSER_BACKOFF_MS > 0) await new Promise((r) => setTimeout(r, Math.random() * ABUSER_BACKOFF_MS));
  }
}

async function phase(platform: Platform, steady: TenantCredentials, abuser: TenantCredentials | null, queueUrl: string, abused: Record<string, Counts>): Promise<PhaseStats> {
  const stats: PhaseStats = { latencies: [], ok: 0, failed: 0, failures: {}, seconds: PHASE_S, threadBusy: 0 };
  const threadBefore = workerdMainThreadJiffies();
  const until = Date.now() + PHASE_S * 1000;
  const loops: Promise<void>[] = STEADY_RPS > 0 ? [openLoop(platform.port, steady, until, stats)] : Array.from({ length: CONCURRENCY }, () => closedLoop(platform.port, steady, until, stats));
  if (abuser) {
    const auth = { authorization: `Bearer ${abuser.token}` };
    let n = 0;
    const invoke = () => ({ path: "/2015-03-31/functions/hog/invocations", headers: auth, body: "{}" });
    const create = () => ({
      path: "/2015-03-31/functions",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ FunctionName: `junk-${n++}`, Runtime: "nodejs22.x", Role: `arn:aws:iam::${abuser.accountId}:role/bench`, Handler: "index.handler", Code: { ZipFile: JUNK_ZIP } }),
    });
    const send = () => ({
      path: "/",
      headers: { ...auth, "content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.SendMessage" },
      body: JSON.stringify({ QueueUrl: queueUrl, MessageBody: `flood ${n++}` }),
    });
    for (const [name, count, request] of [["invoke", FLOOD_INVOKERS, invoke], ["create", FLOOD_CREATORS, create], ["send", FLOOD_SENDERS, send]] as const) {
      abused[name] ??= {};
      for (let i = 0; i < count; i++) loops.push(abuse(platform.port, request, until, abused[name]));
    }
  }
  await Promise.all(loops);
  stats.threadBusy = busiestWorkerdShare(threadBefore, workerdMainThreadJiffies(), PHASE_S);
  return stats;
}

const JUNK_ZIP = makeZipBase64({ "index.mjs": HANDLER_SOURCE.replace("ok: true", "junk: true") });

function merge(phases: PhaseStats[]): PhaseStats {
  const total = phases.reduce((n, p) => n + p.seconds, 0);
  return phases.reduce(
    (a, b) => ({
      latencies: a.latencies.concat(b.latencies),
      ok: a.ok + b.ok,
      failed: a.failed + b.failed,
      failures: Object.entries(b.failures).reduce((into, [kind, n]) => ({ ...into, [kind]: (into[kind] ?? 0) + n }), a.failures),
      seconds: a.seconds + b.seconds,
      threadBusy: a.threadBusy + (b.threadBusy * b.seconds) / total,
    }),
    { latencies: [], ok: 0, failed: 0, failures: {}, seconds: 0, threadBusy: 0 },
  );
}

const summary = (s: PhaseStats) => ({ p50: percentile(s.latencies, 50), p95: percentile(s.latencies, 95), goodput: s.ok / s.seconds, failed: s.failed, failures: s.failures, threadBusy: s.threadBusy });

async function main(): Promise<void> {
  const results: Record<string, unknown> = {};
  for (const via of VIAS) results[via] = await runVia(via);
  console.log(`\nload average at the end: ${os.loadavg().map((n) => n.toFixed(2)).join(" ")} (${os.cpus().length} cores)`);
  mkdirSync(path.join(ROOT, "bench", "results"), { recursive: true });
  writeFileSync(
    path.join(ROOT, "bench", "results", "quotas-latest.json"),
    JSON.stringify({ at: new Date().toISOString(), loadAverage: os.loadavg(), settings: { PHASE_S, ROUNDS, CONCURRENCY, STEADY_RPS, FLOOD_INVOKERS, FLOOD_CREATORS, FLOOD_SENDERS, ABUSER_CONCURRENCY, ABUSER_BACKOFF_MS }, results }, null, 2),
  );
  agent.destroy();
}

async function runVia(via: "proxy" | "direct"): Promise<unknown> {
  const platform = await startPlatform({ via, verbose: process.env.BENCH_VERBOSE === "1" });
  try {
    // Both at Lambda's control-plane rate (the harness raises it for tests).
    const steady = await createTenantWithKey(platform, "steady", "full", { apiRequestRate: DEFAULT_API_REQUEST_RATE });
    const abuser = await createTenantWithKey(platform, "abuser", "full", { apiRequestRate: DEFAULT_API_REQUEST_RATE });
    await deployFunction(platform, steady, "steady", HANDLER_SOURCE);
    await deployFunction(platform, abuser, "hog", HANDLER_SOURCE);
    const queue = await postLocal(agent, platform.port, "/", { authorization: `Bearer ${abuser.token}`, "content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.CreateQueue" }, '{"QueueName":"flood"}', TIMEOUT_MS);
    const queueUrl = (JSON.parse(queue.body) as { QueueUrl: string }).QueueUrl;
    // The abuser is at its quotas: ABUSER_CONCURRENCY concurrent executions, no code storage left.
    const settings = await fetch(`${platform.url}/2016-08-19/account-settings`, { headers: { authorization: `Bearer ${abuser.token}` } });
    const used = ((await settings.json()) as { AccountUsage: { TotalCodeSize: number } }).AccountUsage.TotalCodeSize;
    const patched = await adminFetch(platform, "PATCH", `/admin/tenants/${abuser.tenantId}`, { concurrencyLimit: ABUSER_CONCURRENCY, codeStorageLimit: used });
    if (patched.status !== 200) throw new Error(`PATCH abuser: ${patched.status} ${patched.text}`);

    await phase(platform, steady, null, queueUrl, {}); // warm-up, not counted
    const solo: PhaseStats[] = [];
    const flooded: PhaseStats[] = [];
    const abused: Record<string, Counts> = {};
    for (let round = 0; round < ROUNDS; round++) {
      solo.push(await phase(platform, steady, null, queueUrl, abused));
      flooded.push(await phase(platform, steady, abuser, queueUrl, abused));
    }
    const s = summary(merge(solo));
    const f = summary(merge(flooded));
    const ratios = { p50: f.p50 / s.p50, p95: f.p95 / s.p95, goodput: f.goodput / s.goodput };
    const fmt = (n: number) => n.toFixed(2);
    const steadyLoad = STEADY_RPS > 0 ? `${STEADY_RPS} invokes/s open loop` : `${CONCURRENCY} closed-loop invokers`;
    console.log(`\n${via === "direct" ? "direct to the user worker's socket" : "through wrangler dev's proxy"}: steady tenant, ${steadyLoad}, ${ROUNDS} rounds of ${PHASE_S} s solo / ${PHASE_S} s flooded (one workerd process, this machine)`);
    console.log("| phase | p50 ms | p95 ms | goodput /s | failed | workerd thread busy |");
    console.log("| --- | --- | --- | --- | --- | --- |");
    const failed = (p: ReturnType<typeof summary>) => (p.failed ? `${p.failed} (${Object.entries(p.failures).map(([kind, n]) => `${kind}: ${n}`).join(", ")})` : "0");
    console.log(`| solo | ${fmt(s.p50)} | ${fmt(s.p95)} | ${fmt(s.goodput)} | ${failed(s)} | ${(s.threadBusy * 100).toFixed(0)} % |`);
    console.log(`| flooded | ${fmt(f.p50)} | ${fmt(f.p95)} | ${fmt(f.goodput)} | ${failed(f)} | ${(f.threadBusy * 100).toFixed(0)} % |`);
    console.log(`| flooded / solo | ${fmt(ratios.p50)}× | ${fmt(ratios.p95)}× | ${fmt(ratios.goodput)}× | | |`);
    const perSecond = (c: Counts) => Object.entries(c).map(([status, n]) => `${status}: ${(n / (ROUNDS * PHASE_S)).toFixed(0)}/s`).join(", ");
    for (const [name, counts] of Object.entries(abused)) console.log(`abuser ${name} (${name === "invoke" ? FLOOD_INVOKERS : name === "create" ? FLOOD_CREATORS : FLOOD_SENDERS} loops): ${perSecond(counts)}`);
    const met = ratios.p50 <= TARGET_RATIO && ratios.goodput >= 1 / TARGET_RATIO;
    console.log(`target (p50 within 20 %, goodput within 20 %): ${met ? "met" : "MISSED"}`);
    return { solo: s, flooded: f, ratios, abused, met };
  } finally {
    await platform.stop();
  }
}

await main();
