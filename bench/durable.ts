/**
 * `npm run bench:durable`: what durability costs on cellfn, on this machine.
 *
 * Starts cellfn (test/e2e/harness.ts: `wrangler dev`, fresh state), deploys
 * zips bundled from the real `@aws/durable-execution-sdk-js`, and measures:
 *
 *   checkpoint   one `context.step` of a trivial function, timed inside the
 *                function: the SDK's CheckpointDurableExecution round trip
 *                (function → egress → cellfn route → the execution's object
 *                → SQLite transaction → back), p50 / p99 over BENCH_STEPS steps
 *   overhead     sync Invoke of a 10-step durable workflow against the same 10
 *                computations in a plain function, p50 of BENCH_RUNS each
 *   held         BENCH_SUSPENDED executions started at BENCH_START_RATE a
 *                second, each suspended in one `wait` until its own resume
 *                time; the resumes come BENCH_RESUME_RATE a second from
 *                BENCH_HOLD_S after the first start. The tenant's concurrency
 *                limit is lowered to BENCH_TENANT_LIMIT first, so holding more
 *                suspended executions than that limit shows they hold no
 *                concurrency; while all are suspended a sync invoke of a plain
 *                function of the same tenant must still run. Resume lateness
 *                (alarm → handler), from every execution's history: the wait's
 *                ScheduledEndTimestamp (fixed when its checkpoint landed) →
 *                the first step after the wait, p50 / p99, split into stages;
 *                beside it the older figure counted from an end the function
 *                planned in a step before the wait, which also counts the
 *                wait's own checkpoint (slow while the executions start).
 *
 * Prints a table and writes bench/results/durable-latest.json (durable-<parts>-latest.json for a subset).
 * Knobs: BENCH_STEPS (200), BENCH_RUNS (20), BENCH_SUSPENDED (100),
 * BENCH_START_RATE (20), BENCH_HOLD_S (time to start them all plus 30 s),
 * BENCH_RESUME_RATE (20), BENCH_TENANT_LIMIT (50), BENCH_WAVES (1: the held
 * executions start in that many waves; after each, once the execution objects
 * have closed their databases or BENCH_IDLE_WAIT_S (90) passed, workerd's RSS
 * and fds are printed); BENCH_PARTS picks sections
 * (default "checkpoint,overhead,held").
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CloudWatchLogsClient, DescribeLogStreamsCommand, FilterLogEventsCommand, type FilterLogEventsCommandOutput } from "@aws-sdk/client-cloudwatch-logs";
import { CreateFunctionCommand, GetDurableExecutionCommand, GetDurableExecutionHistoryCommand, InvokeCommand, type LambdaClient, ListDurableExecutionsByFunctionCommand } from "@aws-sdk/client-lambda";
import { build } from "esbuild";
import { strToU8, zipSync } from "fflate";
import { adminFetch, createTenantWithKey, lambdaClient, type Platform, ROOT, startPlatform, type TenantCredentials, untilActive } from "../test/e2e/harness";
import { DURABLE_EXECUTION_DB, workerdOpenFiles, workerdUsage } from "./lib/proc";
import { envNumber } from "./lib/settings";

const STEPS = envNumber("BENCH_STEPS", 200);
const RUNS = envNumber("BENCH_RUNS", 20);
const SUSPENDED = envNumber("BENCH_SUSPENDED", 100);
const START_RATE = envNumber("BENCH_START_RATE", 20);
const HOLD_S = envNumber("BENCH_HOLD_S", Math.ceil(SUSPENDED / START_RATE) + 30 + (envNumber("BENCH_WAVES", 1) > 1 ? envNumber("BENCH_WAVES", 1) * envNumber("BENCH_IDLE_WAIT_S", 90) : 0));
const RESUME_RATE = envNumber("BENCH_RESUME_RATE", 20);
const TENANT_LIMIT = envNumber("BENCH_TENANT_LIMIT", 50);
const WAVES = envNumber("BENCH_WAVES", 1);
/** How long a wave waits for its execution objects to be evicted (workerd frees an idle object after 10 s). */
const IDLE_WAIT_S = envNumber("BENCH_IDLE_WAIT_S", 90);
const PARTS = new Set((process.env.BENCH_PARTS ?? "checkpoint,overhead,held").split(","));
/** Concurrent control-plane calls while reading the held executions' results. */
const READ_CONCURRENCY = 16;
/** Executions whose histories profile a start. */
const PROFILE_SAMPLE = 40;
const ROLE = "arn:aws:iam::123456789012:role/bench";

const DURABLE_SOURCE = `
const { withDurableExecution } = require("@aws/durable-execution-sdk-js");
const work = (i) => { let x = i; for (let k = 0; k < 1000; k++) x = (x * 31 + k) % 1000003; return x; };
const flows = {
  async steps(event, ctx) {
    const times = [];
    for (let i = 0; i < event.steps; i++) {
      const t0 = performance.now();
      await ctx.step("s" + i, async () => work(i));
      times.push(performance.now() - t0);
    }
    return times;
  },
  async ten(event, ctx) {
    let sum = 0;
    for (let i = 0; i < 10; i++) sum += await ctx.step("s" + i, async () => work(i));
    return sum;
  },
  async sleeper(event, ctx) {
    const plan = await ctx.step("plan", async () => {
      const seconds = Math.max(1, Math.ceil((event.resumeAt - Date.now()) / 1000));
      return { seconds, end: Date.now() + seconds * 1000 };
    });
    await ctx.wait("w", { seconds: plan.seconds });
    return ctx.step("after", async () => Date.now() - plan.end);
  },
};
exports.handler = withDurableExecution(async (event, ctx) => flows[process.env.FLOW](event, ctx));
`;
const PLAIN_SOURCE = `
const work = (i) => { let x = i; for (let k = 0; k < 1000; k++) x = (x * 31 + k) % 1000003; return x; };
exports.handler = async () => { let sum = 0; for (let i = 0; i < 10; i++) sum += work(i); return sum; };
`;

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const ms = (n: number) => `${n.toFixed(1)} ms`;

async function bundle(source: string): Promise<string> {
  const out = await build({ stdin: { contents: source, resolveDir: ROOT, loader: "js" }, bundle: true, platform: "node", format: "cjs", target: "node22", write: false, logLevel: "silent" });
  return out.outputFiles[0]?.text ?? "";
}

async function create(lambda: LambdaClient, name: string, code: string, env: Record<string, string>, durable: boolean) {
  await lambda.send(new CreateFunctionCommand({
    FunctionName: name, Role: ROLE, Runtime: "nodejs22.x", Handler: "index.handler", Timeout: 300, MemorySize: 512, Publish: true,
    Code: { ZipFile: zipSync({ "index.js": strToU8(code) }) }, Environment: { Variables: env },
    ...(durable ? { DurableConfig: { ExecutionTimeout: 3600, RetentionPeriodInDays: 1 } } : {}),
  }));
  await untilActive(lambda, name);
}

async function invokeJson(lambda: LambdaClient, name: string, payload: unknown, type?: "Event") {
  const out = await lambda.send(new InvokeCommand({ FunctionName: name, Qualifier: "1", Payload: JSON.stringify(payload), ...(type ? { InvocationType: type } : {}) }));
  const text = Buffer.from(out.Payload ?? new Uint8Array()).toString();
  if (out.FunctionError) throw new Error(`${name}: ${text}`);
  return { arn: out.DurableExecutionArn ?? "", body: text === "" ? undefined : (JSON.parse(text) as unknown) };
}

/** Runs `each(0..count-1)`, starting at most `perSecond` a second and keeping at most `inFlight` running. */
async function paced(count: number, perSecond: number, each: (i: number) => Promise<void>, inFlight = 64): Promise<void> {
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const due = started + (i * 1000) / perSecond;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      await each(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
}

/** RUNNING executions of a function (ListDurableExecutionsByFunction, every page). */
async function countRunning(lambda: LambdaClient, name: string): Promise<number> {
  let total = 0;
  let marker: string | undefined;
  do {
    const page = await lambda.send(new ListDurableExecutionsByFunctionCommand({ FunctionName: name, Statuses: ["RUNNING"], MaxItems: 1000, ...(marker ? { Marker: marker } : {}) }));
    total += page.DurableExecutions?.length ?? 0;
    marker = page.NextMarker;
  } while (marker);
  return total;
}

/** Samples workerd's resident memory and open file descriptors every 5 s (and on demand) with how many executions were started. */
function sampleUsage(pgid: number, started: () => number) {
  const t0 = Date.now();
  const samples: { atS: number; started: number; rssMb: number; fds: number }[] = [];
  const sample = () => {
    const u = workerdUsage(pgid);
    const s = { atS: Math.round((Date.now() - t0) / 1000), started: started(), rssMb: Math.round(u.rssBytes / 1048576), fds: u.fds };
    samples.push(s);
    return s;
  };
  sample();
  const timer = setInterval(sample, 5_000);
  return { samples, sample, last: () => { const s = samples.at(-1); return s ? `${s.rssMb} MB RSS, ${s.fds} fds` : "-"; }, stop: () => clearInterval(timer) };
}

/** From the histories of up to PROFILE_SAMPLE executions: how long a start waited for its first invocation, how long that ran, invocations per execution. */
async function profileStarts(lambda: LambdaClient, arns: string[]) {
  const step = Math.max(1, Math.floor(arns.length / PROFILE_SAMPLE));
  const dispatch: number[] = [];
  const first: number[] = [];
  let invocations = 0;
  let sampled = 0;
  for (let i = 0; i < arns.length; i += step) {
    const events = (await lambda.send(new GetDurableExecutionHistoryCommand({ DurableExecutionArn: arns[i], MaxItems: 1000 }))).Events ?? [];
    const startedAt = events.find((e) => e.EventType === "ExecutionStarted")?.EventTimestamp?.getTime();
    const runs = events.filter((e) => e.EventType === "InvocationCompleted").map((e) => e.InvocationCompletedDetails);
    const run1 = runs[0];
    if (startedAt === undefined || !run1?.StartTimestamp || !run1.EndTimestamp) continue;
    sampled += 1;
    invocations += runs.length;
    dispatch.push(run1.StartTimestamp.getTime() - startedAt);
    first.push(run1.EndTimestamp.getTime() - run1.StartTimestamp.getTime());
  }
  return {
    sampled,
    dispatchP50Ms: pct(dispatch, 50), dispatchP99Ms: pct(dispatch, 99),
    firstInvocationP50Ms: pct(first, 50), firstInvocationP99Ms: pct(first, 99),
    invocationsPerExecution: sampled === 0 ? NaN : invocations / sampled,
  };
}

/** A resume counts as late here (its stages are printed apart). */
const LATE_MS = 1_000;

interface ResumeStages { fromPlanMs: number; latenessMs: number; waitCheckpointMs: number; alarmMs: number; dispatchMs: number; throttledAttempts: number; runMs: number }

/**
 * Each resume from its history (event timestamps are the execution object's clock, the function's
 * `Date.now()` the same machine's): lateness is the wait's ScheduledEndTimestamp (the end the service
 * committed to when the wait's checkpoint landed) → the "after" step, split into the alarm (scheduled end →
 * WaitSucceeded: the alarm firing, the object and its SQLite reopened), dispatch (WaitSucceeded → the next
 * invocation's start), invocations refused for concurrency before the one that ran, and run (that
 * invocation's start → the "after" step: lease, environment, the SDK's replay). Apart: the wait's checkpoint
 * after the plan step (the first invocation's own speed while starting, which the plan-based figure counts).
 */
async function profileResumes(lambda: LambdaClient, arns: string[], fromPlan: Map<number, number>) {
  const picked = [...fromPlan.keys()];
  const rows: ResumeStages[] = [];
  await paced(picked.length, Infinity, async (k) => {
    const i = picked[k] ?? 0;
    const events = (await lambda.send(new GetDurableExecutionHistoryCommand({ DurableExecutionArn: arns[i], IncludeExecutionData: true, MaxItems: 1000 }))).Events ?? [];
    const planPayload = events.find((e) => e.EventType === "StepSucceeded" && e.Name === "plan")?.StepSucceededDetails?.Result?.Payload;
    const planEnd = planPayload ? Number((JSON.parse(planPayload) as { end?: number }).end) : NaN;
    const scheduledEnd = events.find((e) => e.EventType === "WaitStarted")?.WaitStartedDetails?.ScheduledEndTimestamp?.getTime();
    const waitDone = events.find((e) => e.EventType === "WaitSucceeded")?.EventTimestamp?.getTime();
    const fromPlanMs = fromPlan.get(i) ?? NaN;
    if (!Number.isFinite(planEnd) || scheduledEnd === undefined || waitDone === undefined) return;
    const after = events.filter((e) => e.EventType === "InvocationCompleted").map((e) => e.InvocationCompletedDetails?.StartTimestamp?.getTime() ?? NaN).filter((t) => t >= waitDone);
    const first = after[0];
    const last = after.at(-1);
    if (first === undefined || last === undefined) return;
    const afterStep = planEnd + fromPlanMs;
    rows.push({ fromPlanMs, latenessMs: afterStep - scheduledEnd, waitCheckpointMs: scheduledEnd - planEnd, alarmMs: waitDone - scheduledEnd, dispatchMs: first - waitDone, throttledAttempts: after.length - 1, runMs: afterStep - last });
  }, READ_CONCURRENCY);
  const summary = (of: ResumeStages[]) => {
    const stage = (key: keyof ResumeStages) => ({ p50: pct(of.map((r) => r[key]), 50), p99: pct(of.map((r) => r[key]), 99), max: Math.max(...of.map((r) => r[key])) });
    return { count: of.length, lateness: stage("latenessMs"), fromPlan: stage("fromPlanMs"), waitCheckpoint: stage("waitCheckpointMs"), alarm: stage("alarmMs"), dispatch: stage("dispatchMs"), throttledAttempts: stage("throttledAttempts"), run: stage("runMs") };
  };
  return { all: summary(rows), late: summary(rows.filter((r) => r.latenessMs > LATE_MS)), worst: [...rows].sort((a, b) => b.latenessMs - a.latenessMs).slice(0, 10) };
}

/**
 * Execution environments a function ran in (its log streams, one per environment as on Lambda) and the
 * invocations refused for concurrency (the "Throttled" lines of its platform stream).
 */
async function environmentsUsed(platform: Platform, key: TenantCredentials, name: string, since = 0): Promise<{ environments: number; throttled: number; throttledSince: number }> {
  const logs = new CloudWatchLogsClient({ endpoint: platform.url, region: "us-east-1", credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, maxAttempts: 3 });
  const logGroupName = `/aws/lambda/${name}`;
  const streams: string[] = [];
  let throttled = 0;
  let throttledSince = 0;
  let nextToken: string | undefined;
  try {
    do {
      const page = await logs.send(new DescribeLogStreamsCommand({ logGroupName, ...(nextToken ? { nextToken } : {}) }));
      streams.push(...(page.logStreams ?? []).map((l) => l.logStreamName ?? ""));
      nextToken = page.nextToken;
    } while (nextToken);
    const platformStreams = streams.filter((n) => n.endsWith("]platform"));
    nextToken = undefined;
    while (platformStreams.length > 0) {
      const filtered: FilterLogEventsCommandOutput = await logs.send(new FilterLogEventsCommand({ logGroupName, logStreamNames: platformStreams, ...(nextToken ? { nextToken } : {}) }));
      const lines = (filtered.events ?? []).filter((e) => e.message?.includes("Throttled"));
      throttled += lines.length;
      throttledSince += lines.filter((e) => (e.timestamp ?? 0) >= since).length;
      nextToken = filtered.nextToken;
      if (!nextToken) break;
    }
    return { environments: streams.length - platformStreams.length, throttled, throttledSince };
  } finally {
    logs.destroy();
  }
}

async function checkpointLatency(lambda: LambdaClient) {
  await invokeJson(lambda, "steps", { steps: 5 });
  const stepTimes = (await invokeJson(lambda, "steps", { steps: STEPS })).body as number[];
  const r = { samples: stepTimes.length, p50Ms: pct(stepTimes, 50), p99Ms: pct(stepTimes, 99) };
  console.log(`checkpoint (one context.step, inside the function)  p50 ${ms(r.p50Ms)}  p99 ${ms(r.p99Ms)}  (${STEPS} steps)`);
  return r;
}

/** 10 steps durable vs the same work plain, sync, warm, interleaved. */
async function tenStepOverhead(lambda: LambdaClient) {
  const durableRuns: number[] = [];
  const plainRuns: number[] = [];
  await invokeJson(lambda, "ten", {});
  await invokeJson(lambda, "plain", {});
  for (let i = 0; i < RUNS; i++) {
    let t0 = performance.now();
    await invokeJson(lambda, "ten", {});
    durableRuns.push(performance.now() - t0);
    t0 = performance.now();
    await invokeJson(lambda, "plain", {});
    plainRuns.push(performance.now() - t0);
  }
  const r = { runs: RUNS, durableP50Ms: pct(durableRuns, 50), plainP50Ms: pct(plainRuns, 50), overheadP50Ms: pct(durableRuns, 50) - pct(plainRuns, 50) };
  console.log(`10-step workflow, sync invoke                       durable p50 ${ms(r.durableP50Ms)}  plain p50 ${ms(r.plainP50Ms)}  overhead ${ms(r.overheadP50Ms)}`);
  return r;
}

interface WaveSample { started: number; idleAfterS: number; openExecutionDbs: number; rssMb: number; fds: number }

/** Waits (up to IDLE_WAIT_S) until no execution object has its SQLite database open, then samples workerd. */
async function afterIdle(platform: Platform, started: number): Promise<WaveSample> {
  const w0 = Date.now();
  // An object with an invocation in flight (a slow first run, a throttle retry) stays open; a few may remain.
  while (workerdOpenFiles(platform.pgid, DURABLE_EXECUTION_DB) > 2 && Date.now() - w0 < IDLE_WAIT_S * 1000) await new Promise((r) => setTimeout(r, 2_000));
  const u = workerdUsage(platform.pgid);
  const s = { started, idleAfterS: Math.round((Date.now() - w0) / 1000), openExecutionDbs: workerdOpenFiles(platform.pgid, DURABLE_EXECUTION_DB), rssMb: Math.round(u.rssBytes / 1048576), fds: u.fds };
  console.log(`  wave: ${started} held; after ${s.idleAfterS} s ${s.openExecutionDbs} execution databases open; workerd RSS ${s.rssMb} MB, ${s.fds} fds`);
  return s;
}

/** Many executions held suspended under a low tenant concurrency limit, resuming at a steady rate; lateness of each resume. */
async function held(platform: Platform, key: TenantCredentials, lambda: LambdaClient) {
  const tenantId = key.tenantId;
  const limited = await adminFetch(platform, "PATCH", `/admin/tenants/${encodeURIComponent(tenantId)}`, { concurrencyLimit: TENANT_LIMIT });
  if (limited.status !== 200) throw new Error(`lowering the tenant's concurrency limit: ${limited.status} ${limited.text}`);
  const t0 = Date.now();
  const firstResume = t0 + HOLD_S * 1000;
  const arns: string[] = [];
  const startCallMs: number[] = [];
  let startedSoFar = 0;
  let startsRefused = 0;
  const usage = sampleUsage(platform.pgid, () => startedSoFar);
  // In WAVES waves; after each, wait for the objects to go idle and be evicted, then sample (memory left per held execution).
  const waves: WaveSample[] = [];
  let startMs = 0;
  const perWave = Math.ceil(SUSPENDED / WAVES);
  for (let w = 0; w < WAVES; w++) {
    const first = w * perWave;
    const count = Math.min(perWave, SUSPENDED - first);
    const w0 = Date.now();
    await paced(count, START_RATE, async (j) => {
      const i = first + j;
      const c0 = performance.now();
      // The admission door may answer a burst of starts 429 (Retry-After: 1): tried again after it, counted.
      for (let attempt = 1; ; attempt++) {
        try {
          arns[i] = (await invokeJson(lambda, "sleeper", { resumeAt: firstResume + (i * 1000) / RESUME_RATE }, "Event")).arn;
          break;
        } catch (err) {
          if ((err as { name?: string }).name !== "TooManyRequestsException" || attempt >= 60) throw err;
          startsRefused += 1;
          await new Promise((r) => setTimeout(r, 1_000 + Math.random() * 500));
        }
      }
      startCallMs.push(performance.now() - c0);
      startedSoFar += 1;
      if (startedSoFar % 500 === 0) console.log(`  ${startedSoFar} started at +${((Date.now() - t0) / 1000).toFixed(0)} s; workerd ${usage.last()}`);
    });
    startMs += Date.now() - w0;
    if (WAVES > 1) waves.push(await afterIdle(platform, startedSoFar));
  }
  const startSeconds = startMs / 1000;
  console.log(`  started ${SUSPENDED} in ${startSeconds.toFixed(0)} s (Event invoke call p50 ${ms(pct(startCallMs, 50))} p99 ${ms(pct(startCallMs, 99))}, ${startsRefused} answered 429 and sent again); first resume at +${HOLD_S} s`);
  if (Date.now() > firstResume) console.warn(`starting took ${startSeconds.toFixed(0)} s, past BENCH_HOLD_S (${HOLD_S} s): raise it`);
  // All started, none due yet: at most TENANT_LIMIT of them can be in an invocation, the rest are suspended,
  // and a plain function of the same tenant still gets concurrency.
  await new Promise((r) => setTimeout(r, Math.max(0, Math.min(20_000, firstResume - Date.now() - 5_000))));
  const running = await countRunning(lambda, "sleeper");
  const atHold = usage.sample();
  // Executions still in their first invocation (slow cold starts on a loaded machine) may hold the few slots: retry throttles.
  let probeAttempts = 0;
  let probe = "throttled";
  while (probe === "throttled" && probeAttempts < 60) {
    probeAttempts += 1;
    try {
      const out = await lambda.send(new InvokeCommand({ FunctionName: "plain" }));
      probe = out.StatusCode === 200 && !out.FunctionError ? "ran" : `failed ${out.StatusCode}`;
    } catch (err) {
      if ((err as { name?: string }).name !== "TooManyRequestsException") throw err;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  const latenessByIndex = new Map<number, number>();
  const failed: string[] = [];
  await new Promise((r) => setTimeout(r, Math.max(0, firstResume + (SUSPENDED * 1000) / RESUME_RATE - Date.now())));
  console.log(`  held ${running} RUNNING; reading results`);
  // An execution still running 5 minutes after the last planned resume counts as not resumed.
  const readDeadline = Date.now() + 300_000;
  await paced(SUSPENDED, Infinity, async (i) => {
    const arn = arns[i] ?? "";
    for (;;) {
      const described = await lambda.send(new GetDurableExecutionCommand({ DurableExecutionArn: arn }));
      if (described.Status === "SUCCEEDED") return void latenessByIndex.set(i, Number(JSON.parse(described.Result ?? "NaN")));
      if (described.Status !== "RUNNING" || Date.now() > readDeadline) return void failed.push(`${arn} ${described.Status}`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }, READ_CONCURRENCY);
  usage.stop();
  if (failed.length > 0) console.warn(`${failed.length} held executions did not succeed, e.g. ${failed[0]}`);
  const lateness = [...latenessByIndex.values()];
  const starts = await profileStarts(lambda, arns);
  const resumes = await profileResumes(lambda, arns, latenessByIndex);
  // Refusals from the first planned resume on: resumes throttled (each one a backoff sleep before the next attempt).
  const environments = await environmentsUsed(platform, key, "sleeper", firstResume);
  const r = {
    suspended: SUSPENDED, startSeconds, startRatePerS: START_RATE, achievedStartRatePerS: SUSPENDED / startSeconds, holdS: HOLD_S, resumeRatePerS: RESUME_RATE, tenantConcurrencyLimit: TENANT_LIMIT,
    startCallP50Ms: pct(startCallMs, 50), startCallP99Ms: pct(startCallMs, 99), startsRefused, starts, resumes, environmentsUsed: environments.environments, invocationsThrottled: environments.throttled, resumesThrottled: environments.throttledSince,
    runningAtOnce: running, plainInvokeWhileHeld: probe, probeAttempts,
    workerd: { before: usage.samples[0], atHold, peakRssMb: Math.max(...usage.samples.map((u) => u.rssMb)), peakFds: Math.max(...usage.samples.map((u) => u.fds)), samples: usage.samples },
    waves, resumed: lateness.length, profiled: resumes.all.count, failed: failed.length,
    p50Ms: resumes.all.lateness.p50, p99Ms: resumes.all.lateness.p99, maxMs: resumes.all.lateness.max,
    fromPlanP50Ms: pct(lateness, 50), fromPlanP99Ms: pct(lateness, 99), fromPlanMaxMs: Math.max(...lateness),
  };
  console.log(`one start (history of ${starts.sampled})                     ExecutionStarted → first invocation p50 ${ms(starts.dispatchP50Ms)} p99 ${ms(starts.dispatchP99Ms)}; first invocation (plan step, wait, PENDING) p50 ${ms(starts.firstInvocationP50Ms)} p99 ${ms(starts.firstInvocationP99Ms)}; ${starts.invocationsPerExecution} invocations per execution`);
  console.log(`environments used (log streams of the function)     ${environments.environments} for about ${SUSPENDED * 2} invocations; ${environments.throttled} invocations refused for concurrency, ${environments.throttledSince} of them from the first planned resume on`);
  console.log(`workerd while held                                  RSS ${atHold.rssMb} MB, ${atHold.fds} fds with ${running} RUNNING (before starting: ${usage.samples[0]?.rssMb} MB, ${usage.samples[0]?.fds} fds); peak ${r.workerd.peakRssMb} MB, ${r.workerd.peakFds} fds`);
  console.log(`held suspended                                      ${r.runningAtOnce} RUNNING at once (started in ${startSeconds.toFixed(0)} s), the tenant's concurrency limit ${TENANT_LIMIT}; a plain invoke meanwhile: ${probe} (attempt ${probeAttempts})`);
  const stages = (s: typeof resumes.late) => `alarm ${ms(s.alarm.p50)}/${ms(s.alarm.max)}, dispatch ${ms(s.dispatch.p50)}/${ms(s.dispatch.max)}, refused ${s.throttledAttempts.p50}/${s.throttledAttempts.max}, run ${ms(s.run.p50)}/${ms(s.run.max)}; the wait's checkpoint after the plan step ${ms(s.waitCheckpoint.p50)}/${ms(s.waitCheckpoint.max)}`;
  console.log(`resume stages, p50/max, all ${resumes.all.count}                 ${stages(resumes.all)}`);
  if (resumes.late.count > 0) console.log(`resume stages, p50/max, ${resumes.late.count} late > ${LATE_MS} ms           ${stages(resumes.late)}`);
  console.log(`resume after wait (scheduled end → first step)      p50 ${ms(r.p50Ms)}  p99 ${ms(r.p99Ms)}  max ${ms(r.maxMs)}  (${r.resumed} resumed at ${RESUME_RATE}/s, ${r.profiled} histories read, ${r.failed} failed)`);
  console.log(`  counted from the plan step before the wait         p50 ${ms(r.fromPlanP50Ms)}  p99 ${ms(r.fromPlanP99Ms)}  max ${ms(r.fromPlanMaxMs)}  (adds the wait's own checkpoint, slow while the executions start)`);
  return r;
}

async function main() {
  const platform = await startPlatform();
  try {
    const key = await createTenantWithKey(platform, "bench-durable");
    const lambda = lambdaClient(platform, key, { requestHandler: { requestTimeout: 900_000 } });
    const code = await bundle(DURABLE_SOURCE);
    for (const flow of ["steps", "ten", "sleeper"]) await create(lambda, flow, code, { FLOW: flow }, true);
    await create(lambda, "plain", PLAIN_SOURCE, {}, false);
    console.log("\ncellfn durable functions (this machine, loopback)\n");
    const results = {
      ...(PARTS.has("checkpoint") ? { checkpoint: await checkpointLatency(lambda) } : {}),
      ...(PARTS.has("overhead") ? { tenSteps: await tenStepOverhead(lambda) } : {}),
      ...(PARTS.has("held") ? { held: await held(platform, key, lambda) } : {}),
    };
    const out = path.join(ROOT, "bench", "results");
    mkdirSync(out, { recursive: true });
    const file = PARTS.size === 3 ? "durable-latest.json" : `durable-${[...PARTS].join("-")}-latest.json`;
    writeFileSync(path.join(out, file), `${JSON.stringify({ at: new Date().toISOString(), ...results }, null, 2)}\n`);
    lambda.destroy();
  } finally {
    await platform.stop();
  }
}

await main();
