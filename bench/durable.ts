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
 *   resume       BENCH_SUSPENDED executions started at once, each suspended in
 *                a `wait` of BENCH_WAIT_S seconds; lateness of the first step
 *                after the wait (handler start after the alarm) against the
 *                wait's ScheduledEndTimestamp, p50 / p99. While they wait no
 *                invocation runs (checked: no InvocationCompleted is pending).
 *
 * Prints a table and writes bench/results/durable-latest.json.
 * Knobs: BENCH_STEPS (200), BENCH_RUNS (20), BENCH_SUSPENDED (100), BENCH_WAIT_S (10).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CreateFunctionCommand, GetDurableExecutionCommand, GetDurableExecutionHistoryCommand, InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { build } from "esbuild";
import { strToU8, zipSync } from "fflate";
import { createTenantWithKey, lambdaClient, ROOT, startPlatform, untilActive } from "../test/e2e/harness";
import { envNumber } from "./lib/settings";

const STEPS = envNumber("BENCH_STEPS", 200);
const RUNS = envNumber("BENCH_RUNS", 20);
const SUSPENDED = envNumber("BENCH_SUSPENDED", 100);
const WAIT_S = envNumber("BENCH_WAIT_S", 10);
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
    await ctx.wait("w", { seconds: event.waitSeconds });
    return ctx.step("after", async () => Date.now());
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

async function main() {
  const platform = await startPlatform();
  try {
    const key = await createTenantWithKey(platform, "bench-durable");
    const lambda = lambdaClient(platform, key, { requestHandler: { requestTimeout: 900_000 } });
    const code = await bundle(DURABLE_SOURCE);
    for (const flow of ["steps", "ten", "sleeper"]) await create(lambda, flow, code, { FLOW: flow }, true);
    await create(lambda, "plain", PLAIN_SOURCE, {}, false);

    // Checkpoint latency, from inside the function.
    await invokeJson(lambda, "steps", { steps: 5 });
    const stepTimes = (await invokeJson(lambda, "steps", { steps: STEPS })).body as number[];

    // 10 steps durable vs plain, sync, warm.
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

    // Many executions suspended at once; resume lateness after the alarm.
    const started = await Promise.all(Array.from({ length: SUSPENDED }, () => invokeJson(lambda, "sleeper", { waitSeconds: WAIT_S }, "Event")));
    const lateness: number[] = [];
    for (const { arn } of started) {
      let described = await lambda.send(new GetDurableExecutionCommand({ DurableExecutionArn: arn }));
      while (described.Status === "RUNNING") {
        await new Promise((r) => setTimeout(r, 250));
        described = await lambda.send(new GetDurableExecutionCommand({ DurableExecutionArn: arn }));
      }
      if (described.Status !== "SUCCEEDED") throw new Error(`sleeper ${arn} ended ${described.Status}`);
      const history = await lambda.send(new GetDurableExecutionHistoryCommand({ DurableExecutionArn: arn, MaxItems: 1000 }));
      const scheduled = history.Events?.find((e) => e.EventType === "WaitStarted")?.WaitStartedDetails?.ScheduledEndTimestamp;
      const resumedAt = Number(JSON.parse(described.Result ?? "0"));
      if (scheduled) lateness.push(resumedAt - scheduled.getTime());
    }

    const results = {
      checkpoint: { samples: stepTimes.length, p50Ms: pct(stepTimes, 50), p99Ms: pct(stepTimes, 99) },
      tenSteps: { runs: RUNS, durableP50Ms: pct(durableRuns, 50), plainP50Ms: pct(plainRuns, 50), overheadP50Ms: pct(durableRuns, 50) - pct(plainRuns, 50) },
      resume: { suspendedAtOnce: SUSPENDED, waitSeconds: WAIT_S, p50Ms: pct(lateness, 50), p99Ms: pct(lateness, 99), maxMs: Math.max(...lateness) },
    };
    console.log("\ncellfn durable functions (this machine, loopback)\n");
    console.log(`checkpoint (one context.step, inside the function)  p50 ${ms(results.checkpoint.p50Ms)}  p99 ${ms(results.checkpoint.p99Ms)}  (${STEPS} steps)`);
    console.log(`10-step workflow, sync invoke                       durable p50 ${ms(results.tenSteps.durableP50Ms)}  plain p50 ${ms(results.tenSteps.plainP50Ms)}  overhead ${ms(results.tenSteps.overheadP50Ms)}`);
    console.log(`resume after wait (alarm → first step)              p50 ${ms(results.resume.p50Ms)}  p99 ${ms(results.resume.p99Ms)}  max ${ms(results.resume.maxMs)}  (${SUSPENDED} suspended at once, ${WAIT_S} s waits)`);
    const out = path.join(ROOT, "bench", "results");
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, "durable-latest.json"), `${JSON.stringify({ at: new Date().toISOString(), ...results }, null, 2)}\n`);
    lambda.destroy();
  } finally {
    await platform.stop();
  }
}

await main();
