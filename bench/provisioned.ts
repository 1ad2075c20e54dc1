/**
 * The provisioned-concurrency row of `npm run bench:invoke`: p99 of the first
 * request after an idle period, provisioned vs on-demand, against each one's
 * warm p99 (issue 14's target: provisioned after idle within 20 % of warm).
 *
 * Creates BENCH_PC_FUNCTIONS functions of each kind (same handler as the
 * other rows), publishes a version of each, provisions 1 environment on the
 * provisioned ones and waits until READY. Each round: nothing runs for
 * BENCH_PC_IDLE_S seconds (default 600: on-demand environments are forgotten
 * after 10 minutes idle), then each function's first request is timed, one
 * at a time, then BENCH_PC_WARM_SAMPLES warm requests per function. With a
 * short idle (BENCH_PC_IDLE_S=5) the on-demand functions are still warm: that
 * only checks the row runs.
 */
import http from "node:http";
import type { Platform, TenantCredentials } from "../test/e2e/harness";
import { makeZipBase64 } from "../test/fixtures/zips";
import { HANDLER_SOURCE } from "./handler";
import { postLocal } from "./lib/http";

export interface ProvisionedBenchOptions {
  idleS: number;
  functions: number;
  rounds: number;
  warmSamples: number;
  log(message: string): void;
}

export interface ProvisionedBenchResult {
  /** Latencies (ms) of each function's first request after the idle period, and of warm requests. */
  provisionedFirst: number[];
  provisionedWarm: number[];
  onDemandFirst: number[];
  onDemandWarm: number[];
  /** How many first requests reported Init Duration (a cold start). */
  provisionedColdFirsts: number;
  onDemandColdFirsts: number;
}

const EVENT = JSON.stringify({ bench: true });
const REQUEST_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 120_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function provisionedVsOnDemand(platform: Platform, creds: TenantCredentials, opts: ProvisionedBenchOptions): Promise<ProvisionedBenchResult> {
  const call = async (method: string, urlPath: string, body?: unknown) => {
    const res = await fetch(`${platform.url}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${creds.token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    return { status: res.status, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
  };
  const fnPath = (name: string) => `/2015-03-31/functions/${name}`;
  const tag = Date.now().toString(36);
  const create = async (name: string) => {
    const created = await call("POST", "/2015-03-31/functions", {
      FunctionName: name,
      Runtime: "nodejs22.x",
      Role: `arn:aws:iam::${creds.accountId}:role/bench`,
      Handler: "index.handler",
      Code: { ZipFile: makeZipBase64({ "index.mjs": HANDLER_SOURCE }) },
    });
    if (created.status !== 201) throw new Error(`CreateFunction ${name}: ${created.status} ${JSON.stringify(created.body)}`);
    for (let state = created.body.State; state === "Pending"; state = (await call("GET", `${fnPath(name)}/configuration`)).body.State) await sleep(200);
    const published = await call("POST", `${fnPath(name)}/versions`, {});
    if (published.status !== 201) throw new Error(`PublishVersion ${name}: ${published.status} ${JSON.stringify(published.body)}`);
    return { name, version: String(published.body.Version) };
  };
  const provisioned = await Promise.all(Array.from({ length: opts.functions }, (_, i) => create(`bench-pc-${tag}-${i}`)));
  const onDemand = await Promise.all(Array.from({ length: opts.functions }, (_, i) => create(`bench-od-${tag}-${i}`)));

  const pcPath = (f: { name: string; version: string }) => `/2019-09-30/functions/${f.name}/provisioned-concurrency?Qualifier=${f.version}`;
  for (const f of provisioned) {
    const put = await call("PUT", pcPath(f), { ProvisionedConcurrentExecutions: 1 });
    if (put.status !== 202) throw new Error(`PutProvisionedConcurrencyConfig ${f.name}: ${put.status} ${JSON.stringify(put.body)}`);
  }
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (const f of provisioned) {
    for (;;) {
      const got = await call("GET", pcPath(f));
      if (got.body.Status === "READY") break;
      if (got.body.Status === "FAILED" || Date.now() > deadline) throw new Error(`${f.name} not READY: ${JSON.stringify(got.body)}`);
      await sleep(250);
    }
  }
  opts.log(`provisioned: ${opts.functions} provisioned and ${opts.functions} on-demand functions ready`);

  const agent = new http.Agent({ keepAlive: true });
  const invoke = async (f: { name: string; version: string }) => {
    const urlPath = `${fnPath(f.name)}/invocations?Qualifier=${f.version}`;
    const headers = { authorization: `Bearer ${creds.token}`, "content-type": "application/json", "x-amz-log-type": "Tail" };
    const started = performance.now();
    const reply = await postLocal(agent, platform.port, urlPath, headers, EVENT, REQUEST_TIMEOUT_MS);
    const ms = performance.now() - started;
    if (reply.status !== 200 || reply.headers["x-amz-function-error"]) throw new Error(`invoke ${f.name}: ${reply.status} ${reply.body.slice(0, 300)}`);
    const log = Buffer.from(String(reply.headers["x-amz-log-result"] ?? ""), "base64").toString("utf8");
    return { ms, cold: log.includes("Init Duration") };
  };

  const result: ProvisionedBenchResult = { provisionedFirst: [], provisionedWarm: [], onDemandFirst: [], onDemandWarm: [], provisionedColdFirsts: 0, onDemandColdFirsts: 0 };
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      opts.log(`provisioned: round ${round}/${opts.rounds}, ${opts.idleS} s idle`);
      await sleep(opts.idleS * 1000);
      // Interleaved, one at a time: each function's first request after the idle period.
      for (let i = 0; i < opts.functions; i++) {
        for (const [f, first, kind] of [
          [provisioned[i], result.provisionedFirst, "provisioned"],
          [onDemand[i], result.onDemandFirst, "onDemand"],
        ] as const) {
          if (!f) continue;
          const { ms, cold } = await invoke(f);
          first.push(ms);
          if (cold && kind === "provisioned") result.provisionedColdFirsts += 1;
          if (cold && kind === "onDemand") result.onDemandColdFirsts += 1;
        }
      }
      for (let s = 0; s < opts.warmSamples; s++) {
        for (let i = 0; i < opts.functions; i++) {
          const p = provisioned[i];
          const o = onDemand[i];
          if (p) result.provisionedWarm.push((await invoke(p)).ms);
          if (o) result.onDemandWarm.push((await invoke(o)).ms);
        }
      }
    }
  } finally {
    agent.destroy();
  }
  return result;
}
