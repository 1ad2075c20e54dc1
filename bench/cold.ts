/**
 * `BENCH_ONLY=cold npm run bench:invoke`: the cold-start rows alone, with
 * more samples, interleaved one sample of each row at a time so that drifting
 * background load on this shared machine hits every row alike:
 *
 *   (b)      warm Worker Loader call, no platform (baseline Worker)
 *   (c)      warm cellfn invoke
 *   (d)      cold cellfn invoke (UpdateFunctionConfiguration first: a new environment)
 *   (d-sdk)  the same, handler importing @aws-sdk/client-lambda
 *   (z)      a new bare Worker Loader isolate, no platform
 *   (y-cold) cellfn's executor + runtime shim alone on a new isolate (baseline
 *            Worker's /executor with a new slot: no auth, lookup, lease, egress)
 *
 * Targets (issues 10, 11): (d) - (c) within 10 ms of (z) - (b); (d-sdk) - (d) ≤ 30 ms p50.
 * Each sample also records the CPU time the servers (wrangler dev and workerd,
 * every thread: /proc/<pid>/task/<tid>/schedstat, ns) spent on it: on this
 * shared machine wall times swing with other processes' load, CPU time much less.
 * With BENCH_SDK_VARIANTS=split (issue 11: which part of the import costs) also the
 * baseline Worker's /sdk-split rows, each a new bare loader isolate (bench/baseline/sdk-split.ts):
 *   (s-builtins) the SDK's 11 Node built-ins alone     (s-blob) its text compiled, never run
 *   (s-import) the module evaluated, no client         (s-client) + new LambdaClient({})
 *   (s-explicit) + new LambdaClient({ region, credentials })  (s-resolve) + region/credentials/endpoint resolved
 *   (s-client@X) (s-client) with client-lambda built another way (`npm run sdk -- --experiments`)
 * and, after `npm run sdk -- --experiments`, (d-sdk@X) for each X of BENCH_SDK_COLD_EXPERIMENTS
 * (default `before`): the (d-sdk) handler through cellfn with client-lambda built another way
 * (`before` is the default build itself: an A/A check of the rows' noise).
 * The (s-…) rows read against (z) (the same bare isolate importing nothing).
 * With BENCH_SDK_VARIANTS=1 (issue 11's tree-shaking experiment) also:
 *   (d-sdk-inline) the (d-sdk) handler with the platform's pre-bundle shipped in its zip,
 *                  so CreateFunction tree-shakes it into the function's bundle
 *   (d-sdk-shaken) the (d-sdk) handler importing a module shaken to LambdaClient from the
 *                  SDK's sources (only after `npm run sdk -- --shaken-experiment`)
 * and the CreateFunction → Active time of each SDK function.
 * Knobs: BENCH_COLD_SAMPLES (40), BENCH_SDK_VARIANTS (shake, split: comma-separated),
 * BENCH_SDK_COLD_EXPERIMENTS (e.g. `before,plain`), BENCH_SDK_SPLIT (the split rows to run, e.g. `builtins,client@before`), BENCH_COLD_OUT (the JSON's path,
 * default bench/results/invoke-cold-latest.json).
 * The helpers are invoke.ts's, handed in (that module runs its benchmark on import).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createTenantWithKey, ROOT, startPlatform, type Platform } from "../test/e2e/harness";
import { envNumber } from "./lib/settings";
import { procTable } from "./lib/proc";
import { PLATFORM_SDK } from "../src/code/platform-sdk.generated";
import type { Reply, Target } from "./lib/http";
import { sdkSplitAvailable } from "./baseline/sdk-split";

const TARGET_COLD_OVER_LOADER_MS = 10;
const TARGET_SDK_MS = 30;

export interface ColdBenchRow {
  key: string;
  p50: number;
  samples: number;
  errors: number;
}
interface Sampled {
  latencies: number[];
}

/** What invoke.ts lends this module. */
export interface ColdBenchTools<R extends Sampled, Row extends ColdBenchRow, Creds> {
  startBaseline(): Promise<{ url: string; port: number; stop(): Promise<void> }>;
  createFunction(platform: Platform, creds: Creds, name: string, source?: string | Record<string, string>): Promise<void>;
  lambdaCall(platform: Platform, creds: Creds, method: string, urlPath: string, body?: unknown): Promise<{ status: number; text: string }>;
  lambdaHeaders(creds: Creds, extra?: Record<string, string>): Record<string, string>;
  sampled(target: Target, samples: number, before: (i: number) => Promise<void>, checkEach?: (reply: Reply) => string | undefined, onReply?: (reply: Reply) => void): Promise<R>;
  merge(runs: R[]): R;
  toRow(key: string, label: string, concurrency: number, run: R, note?: string): Row;
  table(rows: Row[]): string;
  reportOf(reply: Reply): { initMs?: number };
  echoCheck(reply: Reply): string | undefined;
  invokePath(name: string): string;
  names: { warm: string; cold: string; sdk: string; sdkSource: string; event: string };
  verbose: boolean;
  log(message: string): void;
}

/** CPU ms the servers (this process's descendants, all threads) have run so far; NaN off Linux. */
function serverCpuMs(): number {
  try {
    let ns = 0;
    for (const { pid } of procTable().descendants) {
      let tasks: string[] = [];
      try {
        tasks = readdirSync(`/proc/${pid}/task`);
      } catch {
        continue; // gone meanwhile
      }
      for (const tid of tasks) {
        try {
          ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
        } catch {
          // thread gone meanwhile
        }
      }
    }
    return ns / 1e6;
  } catch {
    return Number.NaN;
  }
}

const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "-");
const median = (values: number[]) => {
  const sorted = [...values].sort((p, q) => p - q);
  return sorted.length ? sorted[Math.ceil(sorted.length / 2) - 1]! : Number.NaN;
};

export async function coldOnly<R extends Sampled, Row extends ColdBenchRow, Creds>(tools: ColdBenchTools<R, Row, Creds>): Promise<void> {
  const samples = Math.floor(envNumber("BENCH_COLD_SAMPLES", 40));
  const { names, log } = tools;
  const begun = Date.now();
  const loadStart = os.loadavg();
  const [p, b] = await Promise.allSettled([startPlatform({ verbose: tools.verbose }), tools.startBaseline()]);
  const platform = p.status === "fulfilled" ? p.value : undefined;
  const baseline = b.status === "fulfilled" ? b.value : undefined;
  try {
    if (p.status === "rejected") throw p.reason;
    if (b.status === "rejected") throw b.reason;
    const cellfn = platform!;
    const base = baseline!;
    const creds = (await createTenantWithKey(cellfn, "bench-cold")) as Creds;
    await tools.createFunction(cellfn, creds, names.warm);
    await tools.createFunction(cellfn, creds, names.cold);
    const createMs: Record<string, number> = {};
    /** CreateFunction until Active (bundling included), timed. */
    const timedCreate = async (name: string, files: Record<string, string>) => {
      const t0 = Date.now();
      await tools.createFunction(cellfn, creds, name, files);
      createMs[name] = Date.now() - t0;
      log(`${name}: Active after ${createMs[name]} ms`);
    };
    await timedCreate(names.sdk, { "index.mjs": names.sdkSource });
    // Issue 11 experiment (BENCH_SDK_VARIANTS=1): the same handler with the SDK tree-shaken.
    // (d-sdk-inline): the platform's pre-bundle shipped in the zip, so CreateFunction's
    // esbuild-wasm tree-shakes it into the function's bundle (what "tree-shake the SDK into
    // the user's bundle" would do). (d-sdk-shaken): a preinstalled module built from the SDK's
    // sources for exactly `LambdaClient` (`npm run sdk -- --shaken-experiment` first; the
    // row is left out without it): the best a per-function tree-shaken module could do.
    const variantSets = (process.env.BENCH_SDK_VARIANTS ?? "").split(",");
    const variants = variantSets.includes("1") || variantSets.includes("shake");
    const split = variantSets.includes("split");
    const only = process.env.BENCH_SDK_SPLIT?.split(",");
    const splitVariants = split ? sdkSplitAvailable().filter((variant) => only === undefined || only.includes(variant)) : [];
    // (d-sdk@X): the (d-sdk) handler importing client-lambda built another way (`npm run sdk -- --experiments`).
    const experiments = (process.env.BENCH_SDK_COLD_EXPERIMENTS ?? "before").split(",").filter((x) => Object.hasOwn(PLATFORM_SDK, `@aws-sdk/x-exp-${x}`));
    for (const x of experiments) await timedCreate(`${names.sdk}-${x}`, { "index.mjs": names.sdkSource.replace("@aws-sdk/client-lambda", `@aws-sdk/x-exp-${x}`) });
    const shaken = variants && Object.hasOwn(PLATFORM_SDK, "@aws-sdk/x-shaken-lambda");
    if (variants) {
      const pre = PLATFORM_SDK["@aws-sdk/client-lambda"];
      if (pre === undefined) throw new Error("BENCH_SDK_VARIANTS=1 needs the preinstalled @aws-sdk/client-lambda");
      await timedCreate(`${names.sdk}-inline`, {
        "index.mjs": names.sdkSource,
        "node_modules/@aws-sdk/client-lambda/package.json": JSON.stringify({ name: "@aws-sdk/client-lambda", type: "module", main: "index.js" }),
        "node_modules/@aws-sdk/client-lambda/index.js": pre,
      });
      if (shaken) await timedCreate(`${names.sdk}-shaken`, { "index.mjs": names.sdkSource.replace("@aws-sdk/client-lambda", "@aws-sdk/x-shaken-lambda") });
    }
    const json = () => ({ "content-type": "application/json" });
    const invoke = (name: string, extra: Record<string, string> = {}): Target => ({
      port: cellfn.port,
      path: () => tools.invokePath(name),
      headers: () => tools.lambdaHeaders(creds, extra),
      body: names.event,
      okStatus: 200,
      check: tools.echoCheck,
    });
    const tag = Date.now().toString(36);
    const newEnvironment = (name: string) => async (i: number) => {
      const res = await tools.lambdaCall(cellfn, creds, "PUT", `/2015-03-31/functions/${name}/configuration`, {
        Environment: { Variables: { BENCH_COLD_SAMPLE: `${tag}-${i}` } },
      });
      if (res.status !== 200) throw new Error(`UpdateFunctionConfiguration: HTTP ${res.status}: ${res.text}`);
    };
    const notCold = (reply: Reply) => (tools.reportOf(reply).initMs === undefined ? "not cold (no Init Duration)" : undefined);
    const init: Record<string, number[]> = { d: [], "d-sdk": [], "d-sdk-inline": [], "d-sdk-shaken": [], ...Object.fromEntries(experiments.map((x) => [`d-sdk@${x}`, []])) };
    const initOf = (key: string) => (reply: Reply) => {
      const { initMs } = tools.reportOf(reply);
      if (initMs !== undefined) init[key]!.push(initMs);
    };
    const none = async () => {};
    const rows: Array<{ key: string; label: string; one(i: number): Promise<R> }> = [
      { key: "b", label: "(b) Worker Loader warm, no platform", one: () => tools.sampled({ port: base.port, path: () => "/loader", headers: json, body: names.event, okStatus: 200, check: tools.echoCheck }, 1, none) },
      { key: "c", label: "(c) cellfn warm invoke", one: () => tools.sampled(invoke(names.warm), 1, none) },
      { key: "d", label: "(d) cellfn cold invoke", one: (i) => tools.sampled(invoke(names.cold, { "x-amz-log-type": "Tail" }), 1, () => newEnvironment(names.cold)(i), notCold, initOf("d")) },
      { key: "d-sdk", label: "(d-sdk) cold, imports @aws-sdk/client-lambda", one: (i) => tools.sampled(invoke(names.sdk, { "x-amz-log-type": "Tail" }), 1, () => newEnvironment(names.sdk)(i), notCold, initOf("d-sdk")) },
      { key: "z", label: "(z) new bare Worker Loader isolate", one: (i) => tools.sampled({ port: base.port, path: () => `/loader?id=cold-${tag}-${i}`, headers: json, body: names.event, okStatus: 200, check: tools.echoCheck }, 1, none) },
      { key: "y-cold", label: "(y-cold) executor + shim alone, new isolate", one: (i) => tools.sampled({ port: base.port, path: () => `/executor?slot=cold-${tag}-${i}`, headers: json, body: names.event, okStatus: 200, check: tools.echoCheck }, 1, none) },
    ];
    if (variants) {
      rows.push({ key: "d-sdk-inline", label: "(d-sdk-inline) cold, SDK tree-shaken into the bundle", one: (i) => tools.sampled(invoke(`${names.sdk}-inline`, { "x-amz-log-type": "Tail" }), 1, () => newEnvironment(`${names.sdk}-inline`)(i), notCold, initOf("d-sdk-inline")) });
    }
    for (const x of experiments) {
      rows.push({ key: `d-sdk@${x}`, label: `(d-sdk@${x}) cold, client-lambda built: ${x}`, one: (i) => tools.sampled(invoke(`${names.sdk}-${x}`, { "x-amz-log-type": "Tail" }), 1, () => newEnvironment(`${names.sdk}-${x}`)(i), notCold, initOf(`d-sdk@${x}`)) });
    }
    if (split) {
      for (const variant of splitVariants) {
        rows.push({ key: `s-${variant}`, label: `(s-${variant}) new bare isolate, SDK step: ${variant}`, one: (i) => tools.sampled({ port: base.port, path: () => `/sdk-split?variant=${variant}&id=${tag}-${i}`, headers: json, body: names.event, okStatus: 200, check: tools.echoCheck }, 1, none) });
      }
    }
    if (shaken) {
      rows.push({ key: "d-sdk-shaken", label: "(d-sdk-shaken) cold, SDK module shaken to LambdaClient", one: (i) => tools.sampled(invoke(`${names.sdk}-shaken`, { "x-amz-log-type": "Tail" }), 1, () => newEnvironment(`${names.sdk}-shaken`)(i), notCold, initOf("d-sdk-shaken")) });
    }
    // Warm the warm rows and the code paths (the first cold samples of each row are discarded too).
    for (let i = 0; i < 10; i++) for (const row of rows.slice(0, 2)) await row.one(i);
    const runs = new Map<string, R[]>(rows.map((row) => [row.key, []]));
    const warmup = 2;
    log(`cold rows: ${samples} samples each (+${warmup} discarded), one of each row in turn`);
    const cpu = new Map<string, number[]>(rows.map((row) => [row.key, []]));
    for (let i = 0; i < samples + warmup; i++) {
      for (let k = 0; k < rows.length; k++) {
        const row = rows[(k + i) % rows.length]!;
        const cpuBefore = serverCpuMs();
        const run = await row.one(i);
        const cpuMs = serverCpuMs() - cpuBefore;
        if (i >= warmup) {
          runs.get(row.key)!.push(run);
          cpu.get(row.key)!.push(cpuMs);
        }
      }
      if (i === warmup - 1) for (const list of Object.values(init)) list.length = 0;
      if ((i + 1) % 10 === 0) log(`  ${i + 1 - warmup} of ${samples}`);
    }
    const table = rows.map((row) => tools.toRow(row.key, row.label, 1, tools.merge(runs.get(row.key)!)));
    const p50 = (key: string) => table.find((r) => r.key === key)?.p50 ?? Number.NaN;
    const coldOverWarm = p50("d") - p50("c");
    const loaderCold = p50("z") - p50("b");
    const sdk = p50("d-sdk") - p50("d");
    const checks = {
      coldOverWarmMs: coldOverWarm,
      bareLoaderColdMs: loaderCold,
      executorColdOverBareMs: p50("y-cold") - p50("z"),
      coldExcessMs: coldOverWarm - loaderCold,
      coldPass: coldOverWarm - loaderCold <= TARGET_COLD_OVER_LOADER_MS,
      sdkMs: sdk,
      sdkPass: sdk <= TARGET_SDK_MS,
      initDurationP50Ms: median(init.d!),
      initDurationSdkP50Ms: median(init["d-sdk"]!),
      /** Server CPU ms per sample (p50), each row; the cold rows include their UpdateFunctionConfiguration. */
      serverCpuP50Ms: Object.fromEntries([...cpu].map(([key, values]) => [key, median(values)])),
      sdkCpuMs: median(cpu.get("d-sdk")!) - median(cpu.get("d")!),
      createMs,
      variants: variants
        ? Object.fromEntries(["d-sdk-inline", ...(shaken ? ["d-sdk-shaken"] : [])].map((key) => [key, { overD: p50(key) - p50("d"), initP50: median(init[key]!), cpuOverD: median(cpu.get(key)!) - median(cpu.get("d")!) }]))
        : undefined,
    };
    const lines = [
      "",
      tools.table(table),
      "",
      `(d) - (c) cold over warm p50 ${f2(coldOverWarm)} ms; (z) - (b) bare loader ${f2(loaderCold)} ms; excess ${f2(checks.coldExcessMs)} ms (target ≤ ${TARGET_COLD_OVER_LOADER_MS}: ${checks.coldPass ? "PASS" : "MISS"})`,
      `(y-cold) - (z) executor + shim over a bare new isolate p50 ${f2(checks.executorColdOverBareMs)} ms; (d) - (y-cold) platform side ${f2(p50("d") - p50("y-cold"))} ms`,
      `(d-sdk) - (d) p50 ${f2(sdk)} ms (target ≤ ${TARGET_SDK_MS}: ${checks.sdkPass ? "PASS" : "MISS"})`,
      `Init Duration p50: (d) ${f2(checks.initDurationP50Ms)} ms, (d-sdk) ${f2(checks.initDurationSdkP50Ms)} ms`,
      `server CPU ms per sample p50: ${rows.map((row) => `(${row.key}) ${f2(checks.serverCpuP50Ms[row.key]!)}`).join(", ")}; (d-sdk) - (d) ${f2(checks.sdkCpuMs)} ms`,
      `load average (1/5/15 min): start ${loadStart.map((v) => v.toFixed(2)).join(" ")}, end ${os.loadavg().map((v) => v.toFixed(2)).join(" ")} (${os.cpus().length} CPUs); total ${((Date.now() - begun) / 1000).toFixed(0)} s`,
    ];
    if (experiments.length) {
      const over = (key: string) => p50(key) - p50("d");
      const cpuOver = (key: string) => median(cpu.get(key)!) - median(cpu.get("d")!);
      lines.push(`(d-sdk) - (d) ${f2(over("d-sdk"))} ms wall, ${f2(cpuOver("d-sdk"))} ms server CPU, Init Duration p50 ${f2(median(init["d-sdk"]!))}; ` +
        experiments.map((x) => `(d-sdk@${x}) - (d) ${f2(over(`d-sdk@${x}`))} / ${f2(cpuOver(`d-sdk@${x}`))}, ÷ (d-sdk) ${f2(over(`d-sdk@${x}`) / over("d-sdk"))} / ${f2(cpuOver(`d-sdk@${x}`) / cpuOver("d-sdk"))}, Init ${f2(median(init[`d-sdk@${x}`]!))}`).join("; "));
    }
    if (split) {
      lines.push(`SDK split over (z), p50 ms wall / server CPU: ${splitVariants.map((v) => `(s-${v}) ${f2(p50(`s-${v}`) - p50("z"))} / ${f2(median(cpu.get(`s-${v}`)!) - median(cpu.get("z")!))}`).join(", ")}`);
    }
    if (checks.variants) lines.push(`variants: ${JSON.stringify(checks.variants)}; CreateFunction→Active ms ${JSON.stringify(createMs)}`);
    const errors = table.filter((r) => r.errors > 0);
    if (errors.length) lines.push(`WARNING: errors in ${errors.map((r) => r.key).join(", ")}: ${JSON.stringify(errors)}`);
    process.stdout.write(`${lines.join("\n")}\n`);
    const out = process.env.BENCH_COLD_OUT ?? path.join(ROOT, "bench", "results", "invoke-cold-latest.json");
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), samples, rows: table, init, checks, load: { start: loadStart, end: os.loadavg() } }, null, 2)}\n`);
    log(`results written to ${path.relative(ROOT, out)}`);
    if (errors.length) process.exitCode = 1;
  } finally {
    await Promise.allSettled([platform?.stop(), baseline?.stop()]);
  }
}
