import { CloudWatchLogsClient, GetQueryResultsCommand, StartQueryCommand, type ResultField } from "@aws-sdk/client-cloudwatch-logs";
import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createActiveFunction, createTenantWithKey, lambdaClient, type Platform, startPlatform, type TenantCredentials } from "./harness";

// Logs Insights over many invocations, as a user would run it: real sync
// invokes through @aws-sdk/client-lambda (with LogType Tail, so the test
// knows every invocation's console line and REPORT line), then StartQuery /
// GetQueryResults through @aws-sdk/client-cloudwatch-logs against
// `wrangler dev`, whose counts must be exact. CELLFN_E2E_INSIGHTS_INVOCATIONS sets
// the size (CI default 2,000; README records a run of 10,000).

const INVOCATIONS = Math.max(1, Number(process.env.CELLFN_E2E_INSIGHTS_INVOCATIONS ?? 2000));
const CONCURRENCY = 16;
const FUNCTION = "e2e-insights";
const GROUP = `/aws/lambda/${FUNCTION}`;
/** Every seventh invocation logs kind "seven": the logged field the `filter` query counts. */
const HANDLER = 'exports.handler = async (event) => { console.log(JSON.stringify({ n: event.n, kind: event.n % 7 === 0 ? "seven" : "other" })); return { n: event.n }; };';

interface Invocation {
  n: number;
  /** Epoch ms of the console line (its ISO prefix, which is also the stored event's timestamp). */
  lineAt: number;
  durationMs: number;
}

/** The console line's time and the REPORT's Duration from a Tail LogResult. */
function readTail(n: number, logResult: string | undefined): Invocation {
  const text = Buffer.from(logResult ?? "", "base64").toString("utf8");
  const line = text.split("\n").find((l) => l.includes(`{"n":${n},`));
  const duration = /REPORT RequestId: \S+\tDuration: ([\d.]+) ms/.exec(text)?.[1];
  if (line === undefined || duration === undefined) throw new Error(`invocation ${n}: no console line or REPORT in its tail:\n${text}`);
  return { n, lineAt: Date.parse(line.slice(0, 24)), durationMs: Number(duration) };
}

const binOf = (ms: number, size: number) => new Date(Math.floor(ms / size) * size).toISOString().replace("T", " ").replace("Z", "");
const row = (fields: ResultField[] | undefined) => Object.fromEntries((fields ?? []).map((f) => [f.field, f.value]));

describe(`Logs Insights over ${INVOCATIONS} invocations (AWS SDK v3)`, () => {
  let platform: Platform;
  let creds: TenantCredentials;
  let lambda: LambdaClient;
  let logs: CloudWatchLogsClient;
  const done: Invocation[] = [];
  let startS = 0;
  let invokeSeconds = 0;

  /** Runs a query over the whole test's time range and waits for it to finish. */
  async function query(queryString: string): Promise<Array<Record<string, string | undefined>>> {
    const { queryId } = await logs.send(new StartQueryCommand({ logGroupName: GROUP, startTime: startS, endTime: Math.ceil(Date.now() / 1000) + 60, queryString }));
    for (let i = 0; i < 600; i++) {
      const out = await logs.send(new GetQueryResultsCommand({ queryId }));
      if (out.status === "Complete") return (out.results ?? []).map(row);
      if (out.status !== "Running" && out.status !== "Scheduled") throw new Error(`query ${queryString}: ${out.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`query ${queryString}: not complete after 60 s`);
  }

  beforeAll(async () => {
    platform = await startPlatform();
    creds = await createTenantWithKey(platform, "insights-scale");
    lambda = lambdaClient(platform, creds);
    logs = new CloudWatchLogsClient({ endpoint: platform.url, region: "us-east-1", credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }, maxAttempts: 1 });
    await createActiveFunction(lambda, FUNCTION, HANDLER);
    console.log(`insights-scale: platform up, ${FUNCTION} active; invoking ${INVOCATIONS} times`);
    startS = Math.floor(Date.now() / 1000) - 1;
    // CONCURRENCY clients invoking back to back, as a load script would.
    const began = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < INVOCATIONS) {
        const n = next++;
        const out = await lambda.send(new InvokeCommand({ FunctionName: FUNCTION, LogType: "Tail", Payload: new TextEncoder().encode(JSON.stringify({ n })) }));
        if (out.FunctionError !== undefined || out.StatusCode !== 200) throw new Error(`invocation ${n}: ${out.StatusCode} ${out.FunctionError}`);
        done.push(readTail(n, out.LogResult));
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    invokeSeconds = (performance.now() - began) / 1000;
    console.log(`insights-scale: ${INVOCATIONS} invocations at concurrency ${CONCURRENCY} in ${invokeSeconds.toFixed(1)} s (${(INVOCATIONS / invokeSeconds).toFixed(0)}/s)`);
    // Lines are shipped after each invoke answers (batched per isolate): wait until every REPORT is stored.
    const shippedBy = Date.now() + 60_000;
    for (;;) {
      const [counted] = await query('filter @type = "REPORT" | stats count(*) as reports');
      if (Number(counted?.reports ?? 0) >= INVOCATIONS || Date.now() > shippedBy) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    console.log(`insights-scale: lines stored ${((performance.now() - began) / 1000 - invokeSeconds).toFixed(1)} s after the last invoke answered`);
  }, Math.max(300_000, INVOCATIONS * 100));

  afterAll(async () => {
    lambda?.destroy();
    logs?.destroy();
    await platform?.stop();
  });

  it("every invocation answered once", () => {
    expect(new Set(done.map((d) => d.n)).size).toBe(INVOCATIONS);
  });

  it("filter @type = \"REPORT\" | stats count(*), avg(@duration): one REPORT per invocation, the average of their durations", async () => {
    const [result] = await query('filter @type = "REPORT" | stats count(*), avg(@duration)');
    expect(result?.["count(*)"]).toBe(String(INVOCATIONS));
    const expected = done.reduce((s, d) => s + d.durationMs, 0) / INVOCATIONS;
    expect(Number(result?.["avg(@duration)"])).toBeCloseTo(expected, 6);
  });

  it("stats count(*) by bin(10s) over the logged lines: each bin holds exactly the lines stamped in it", async () => {
    const rows = await query("filter ispresent(kind) | stats count(*) by bin(10s)");
    const expected = new Map<string, number>();
    for (const d of done) expected.set(binOf(d.lineAt, 10_000), (expected.get(binOf(d.lineAt, 10_000)) ?? 0) + 1);
    const got = new Map(rows.map((r) => [r["bin(10s)"] ?? "", Number(r["count(*)"])]));
    expect(Object.fromEntries([...got].sort())).toEqual(Object.fromEntries([...expected].sort()));
    expect([...got.values()].reduce((s, c) => s + c, 0)).toBe(INVOCATIONS);
  });

  it("a filter on a logged JSON field counts and sums exactly", async () => {
    const sevens = done.filter((d) => d.n % 7 === 0);
    const [result] = await query('filter kind = "seven" | stats count(*) as sevens, sum(n) as total');
    expect(result).toEqual({ sevens: String(sevens.length), total: String(sevens.reduce((s, d) => s + d.n, 0)) });
    const byType = await query("stats count(*) as events by @type");
    expect(Object.fromEntries(byType.map((r) => [r["@type"] ?? "(app line)", r.events]))).toEqual({
      START: String(INVOCATIONS),
      END: String(INVOCATIONS),
      REPORT: String(INVOCATIONS),
      "(app line)": String(INVOCATIONS),
    });
  });
});
