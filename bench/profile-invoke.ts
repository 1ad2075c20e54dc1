/**
 * `npm run profile:invoke`: where the CPU of a warm invoke goes inside
 * cellfn's Worker. Starts cellfn (test/e2e/harness.ts), creates a function
 * with the benchmark's handler, warms it, then takes a V8 CPU profile of the
 * frontend Worker's isolate through the inspector `wrangler dev` exposes
 * (bench/lib/inspector.ts: CDP over Node's WebSocket) while a closed loop of
 * PROFILE_CONCURRENCY (16) clients invokes it for PROFILE_SECONDS (6).
 *
 * Prints the functions with the most self time (and the files they are in),
 * the requests served, and writes the profile to
 * bench/results/invoke-profile.cpuprofile (open it in Chrome DevTools).
 * Not a benchmark: the profiler itself costs CPU; compare shares, not ms.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { createTenantWithKey, ROOT, startPlatform } from "../test/e2e/harness";
import { HANDLER_SOURCE } from "./handler";
import { postLocal } from "./lib/http";
import { Cdp, inspectorTargets } from "./lib/inspector";
import { deployFunction } from "./lib/lambda";
import { procTable, readStat } from "./lib/proc";
import { envNumber } from "./lib/settings";

const CONCURRENCY = Math.floor(envNumber("PROFILE_CONCURRENCY", 16));
const SECONDS = envNumber("PROFILE_SECONDS", 6);
const FUNCTION_NAME = "profile-echo";
/** PROFILE_CPU_ONLY=1: no profiler, only the servers' CPU per request over PROFILE_SECONDS (a quick A/B figure). */
const CPU_ONLY = process.env.PROFILE_CPU_ONLY === "1";
/** PROFILE_TAIL=1: ask for the Tail log and count cold starts (as answers of status "0"). */
const TAIL = process.env.PROFILE_TAIL === "1";
/** PROFILE_VARS="ADMISSION_CONTROL=off,METRICS_RECORDING=off": platform vars for an A/B of one feature's cost. */
const VARS = Object.fromEntries(
  (process.env.PROFILE_VARS ?? "")
    .split(",")
    .filter(Boolean)
    .map((pair) => pair.split("=", 2) as [string, string]),
);
/** Busy jiffies (1/100 s) of this process's descendants: wrangler dev and its workerd. */
const serverJiffies = () => procTable().descendants.reduce((n, d) => n + d.used, 0);
/** Busy jiffies of the descendant workerd processes alone. */
const workerdJiffies = () => procTable().descendants.reduce((n, d) => n + (readStat(`/proc/${d.pid}/stat`)?.[0] === "workerd" ? d.used : 0), 0);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

async function closedLoop(port: number, urlPath: string, headers: Record<string, string>, body: string, concurrency: number, seconds: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const end = performance.now() + seconds * 1000;
  const statuses: Record<number, number> = {};
  const leases: Record<string, number> = {};
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const reply = await postLocal(agent, port, urlPath, headers, body, 30_000);
        statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
        // Server-Timing: lease-held / lease-partition (src/invoke/routes.ts).
        const source = /lease-(\w+)/.exec(String(reply.headers["server-timing"] ?? ""))?.[1];
        if (source) leases[source] = (leases[source] ?? 0) + 1;
        const tail = reply.headers["x-amz-log-result"];
        if (typeof tail === "string" && Buffer.from(tail, "base64").toString().includes("Init Duration")) statuses[0] = (statuses[0] ?? 0) + 1;
      }
    }),
  );
  agent.destroy();
  return { statuses, leases };
}

/** `held 980, partition 20 (one trip per 50 invokes)`. */
function leaseLine(leases: Record<string, number>): string {
  const held = leases.held ?? 0;
  const trips = leases.partition ?? 0;
  return `leases held here ${held}, partition trips ${trips}${trips ? ` (one per ${((held + trips) / trips).toFixed(0)} invokes)` : ""}`;
}

/** Self time by function (and by file), in ms, from a V8 CPU profile. */
function selfTimes(profile: Profile): { byFunction: Array<[string, number]>; byFile: Array<[string, number]>; totalMs: number } {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id)!;
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    const file = node.callFrame.url.replace(/^.*\/(src|node_modules)\//, "$1/") || "(native)";
    const name = `${node.callFrame.functionName || "(anonymous)"} ${file}:${node.callFrame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
  });
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { byFunction: sorted(byFunction), byFile: sorted(byFile), totalMs };
}

async function main(): Promise<void> {
  const platform = await startPlatform({ vars: VARS });
  try {
    const creds = await createTenantWithKey(platform, "profile");
    const headers: Record<string, string> = { authorization: `Bearer ${creds.token}`, "content-type": "application/json" };
    await deployFunction(platform, creds, FUNCTION_NAME, HANDLER_SOURCE);
    const invokePath = `/2015-03-31/functions/${FUNCTION_NAME}/invocations`;
    if (TAIL) headers["X-Amz-Log-Type"] = "Tail";
    const body = JSON.stringify({ n: 1, text: "hello" });
    if (process.env.PROFILE_SEQUENTIAL === "1") {
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now();
        const reply = await postLocal(new http.Agent({ keepAlive: true }), platform.port, invokePath, { ...headers, "X-Amz-Log-Type": "Tail" }, body, 30_000);
        const tail = Buffer.from(String(reply.headers["x-amz-log-result"] ?? ""), "base64").toString();
        console.log(`${reply.status} ${(performance.now() - t0).toFixed(1)} ms ${/Init Duration: [\d.]+ ms/.exec(tail)?.[0] ?? "warm"} ${/Duration: [\d.]+ ms/.exec(tail)?.[0]}`);
      }
    }
    console.error(`[profile] warming at concurrency ${CONCURRENCY} for 3 s`);
    console.error(`[profile] warm-up answers: ${JSON.stringify((await closedLoop(platform.port, invokePath, headers, body, CONCURRENCY, 3)).statuses)}`);

    if (CPU_ONLY) {
      // What the servers burn with no requests (timers, alarms, wrangler's own work), subtracted below.
      let idleMsPerS = 0;
      for (let window = 0; window < Math.floor(envNumber("PROFILE_IDLE_WINDOWS", 1)); window++) {
        const idleBefore = serverJiffies();
        const workerdBefore = workerdJiffies();
        await new Promise((r) => setTimeout(r, 4000));
        idleMsPerS = ((serverJiffies() - idleBefore) * 10) / 4;
        console.log(`servers idle: ${idleMsPerS.toFixed(0)} ms CPU per second (workerd ${(((workerdJiffies() - workerdBefore) * 10) / 4).toFixed(0)})`);
      }
      for (let run = 1; run <= Math.floor(envNumber("PROFILE_RUNS", 1)); run++) {
        const before = serverJiffies();
        const workerdBefore = workerdJiffies();
        const started = performance.now();
        const { statuses, leases } = await closedLoop(platform.port, invokePath, headers, body, CONCURRENCY, SECONDS);
        const elapsed = (performance.now() - started) / 1000;
        const cpuMs = (serverJiffies() - before) * 10 - idleMsPerS * elapsed;
        const workerdMs = (workerdJiffies() - workerdBefore) * 10;
        const ok = statuses[200] ?? 0;
        console.log(`run ${run}: answers ${JSON.stringify(statuses)} in ${elapsed.toFixed(1)} s (${(ok / elapsed).toFixed(0)} req/s) at concurrency ${CONCURRENCY}; server CPU ${(cpuMs / ok).toFixed(3)} ms/request (workerd alone ${(workerdMs / ok).toFixed(3)}); ${leaseLine(leases)}`);
      }
      return;
    }
    const targets = await inspectorTargets(`127.0.0.1:${platform.inspectorPort}`);
    console.error(`[profile] inspector targets: ${targets.map((t) => t.title).join(", ")}`);
    const target = targets.find((t) => /cellfn/.test(t.title)) ?? targets[0];
    if (!target) throw new Error("no inspector target");
    const session = await Cdp.open(target.webSocketDebuggerUrl);
    await session.send("Profiler.enable");
    await session.send("Profiler.setSamplingInterval", { interval: 250 });
    await session.send("Profiler.start");
    const started = performance.now();
    const { statuses, leases } = await closedLoop(platform.port, invokePath, headers, body, CONCURRENCY, SECONDS);
    const elapsed = (performance.now() - started) / 1000;
    const { profile } = await session.send<{ profile: Profile }>("Profiler.stop");
    session.close();

    const out = path.join(ROOT, "bench", "results", "invoke-profile.cpuprofile");
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(profile));
    const served = Object.values(statuses).reduce((a, b) => a + b, 0);
    const { byFunction, byFile, totalMs } = selfTimes(profile);
    const busyMs = totalMs - (byFunction.find(([name]) => name.startsWith("(idle)"))?.[1] ?? 0);
    console.log(`answers ${JSON.stringify(statuses)} in ${elapsed.toFixed(1)} s (${(served / elapsed).toFixed(0)} req/s) at concurrency ${CONCURRENCY}; ${leaseLine(leases)}`);
    console.log(`frontend isolate busy (JS + GC + native calls seen by V8): ${busyMs.toFixed(0)} ms = ${(busyMs / served).toFixed(3)} ms/request`);
    console.log("\nself time by file (ms/request):");
    for (const [file, ms] of byFile.slice(0, 25)) console.log(`  ${(ms / served).toFixed(4)}  ${file}`);
    console.log("\nself time by function (ms/request):");
    for (const [name, ms] of byFunction.slice(0, 50)) console.log(`  ${(ms / served).toFixed(4)}  ${name}`);
    console.log(`\nprofile: ${out}`);
    // The bundle the profile's line numbers refer to (wrangler dev removes it on exit).
    const tmp = path.join(ROOT, ".wrangler", "tmp");
    for (const dir of readdirSync(tmp)) {
      if (dir.startsWith("dev-") && existsSync(path.join(tmp, dir, "index.js"))) copyFileSync(path.join(tmp, dir, "index.js"), out.replace(/\.cpuprofile$/, ".bundle.js"));
    }
  } finally {
    await platform.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
