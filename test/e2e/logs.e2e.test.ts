import { execFile, spawn } from "node:child_process";
import type { LookupOptions } from "node:dns";
import { existsSync } from "node:fs";
import { Agent } from "node:http";
import { promisify } from "node:util";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  GetQueryResultsCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
  ResourceNotFoundException,
  InvalidParameterException,
  MalformedQueryException,
  StartLiveTailCommand,
  StartQueryCommand,
  paginateFilterLogEvents,
  type CloudWatchLogsClientConfig,
  type GetQueryResultsCommandOutput,
} from "@aws-sdk/client-cloudwatch-logs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import { createActiveFunction, createTenantWithKey, lambdaClient, type Platform, startPlatform, type TenantCredentials } from "./harness";

// CloudWatch Logs through the real @aws-sdk/client-cloudwatch-logs (awsJson1_1)
// against `wrangler dev`. Events go in through PutLogEvents, the API users'
// own tools call; the lead switches the ingestion to real invokes once the
// invoke path records its logs (there is no test-only route).

const AWS_CLI = "/root/.pyenv/shims/aws";
const run = promisify(execFile);

function logsClient(platform: Platform, creds: TenantCredentials, extra: Partial<CloudWatchLogsClientConfig> = {}): CloudWatchLogsClient {
  return new CloudWatchLogsClient({
    endpoint: platform.url,
    region: "us-east-1",
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
    maxAttempts: 1,
    ...extra,
  });
}

describe("CloudWatch Logs through the AWS SDK v3", () => {
  let platform: Platform;
  let acme: TenantCredentials;
  let other: TenantCredentials;
  let client: CloudWatchLogsClient;
  const group = "/aws/lambda/e2e-orders";
  const stream = "2026/12/04/[$LATEST]e2e";
  const T0 = Math.floor(Date.now() / 1000) * 1000 - 10_000;

  beforeAll(async () => {
    platform = await startPlatform();
    acme = await createTenantWithKey(platform, "logs-e2e-acme");
    other = await createTenantWithKey(platform, "logs-e2e-other");
    client = logsClient(platform, acme);
    await client.send(new CreateLogGroupCommand({ logGroupName: group }));
    await client.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
    // 9 invocations: 3 in each of 3 seconds; every third one logs an ERROR line.
    const logEvents = [];
    for (let i = 0; i < 9; i++) {
      const at = T0 + Math.floor(i / 3) * 1000 + (i % 3) * 10;
      logEvents.push({ timestamp: at, message: `START RequestId: r-${i} Version: $LATEST` });
      logEvents.push({ timestamp: at + 1, message: `${new Date(at + 1).toISOString()}\tr-${i}\t${i % 3 === 0 ? "ERROR" : "INFO"}\t${JSON.stringify({ order: i, latency: i * 50 })}` });
      logEvents.push({ timestamp: at + 2, message: `END RequestId: r-${i}` });
      logEvents.push({ timestamp: at + 2, message: `REPORT RequestId: r-${i}\tDuration: ${i + 1}.00 ms\tBilled Duration: ${i + 1} ms\tMemory Size: 128 MB\t` });
    }
    await client.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents }));
  });

  afterAll(async () => {
    client?.destroy();
    await platform?.stop();
  });

  it("DescribeLogGroups and DescribeLogStreams", async () => {
    const groups = await client.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "/aws/lambda/" }));
    expect(groups.logGroups?.map((g) => [g.logGroupName, g.logGroupArn])).toEqual([[group, `arn:aws:logs:us-east-1:${acme.accountId}:log-group:${group}`]]);
    const streams = await client.send(new DescribeLogStreamsCommand({ logGroupName: group, orderBy: "LastEventTime", descending: true }));
    expect(streams.logStreams?.[0]).toMatchObject({ logStreamName: stream, firstEventTimestamp: T0, lastEventTimestamp: T0 + 2022 });
  });

  it("FilterLogEvents with a term pattern, a JSON pattern, and the SDK's paginator", async () => {
    const errors = await client.send(new FilterLogEventsCommand({ logGroupName: group, filterPattern: "ERROR" }));
    expect(errors.events?.map((e) => e.message?.split("\t")[1])).toEqual(["r-0", "r-3", "r-6"]);
    const slow = await client.send(new FilterLogEventsCommand({ logGroupName: group, filterPattern: "{ $.latency >= 300 && $.order != 8 }" }));
    expect(slow.events?.map((e) => JSON.parse(e.message?.split("\t")[3] ?? "{}").order)).toEqual([6, 7]);
    let count = 0;
    for await (const page of paginateFilterLogEvents({ client, pageSize: 5 }, { logGroupName: group, filterPattern: "REPORT", limit: 5 })) count += page.events?.length ?? 0;
    expect(count).toBe(9);
    const got = await client.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, startFromHead: true, limit: 2 }));
    expect(got.events?.map((e) => e.message)).toEqual(["START RequestId: r-0 Version: $LATEST", expect.stringContaining("\tr-0\tERROR\t")]);
    expect(got.nextForwardToken).toMatch(/^f\//);
  });

  it("Insights: stats count(*) by bin(1s)", async () => {
    const { queryId } = await client.send(
      new StartQueryCommand({ logGroupName: group, startTime: Math.floor(T0 / 1000), endTime: Math.floor(T0 / 1000) + 5, queryString: "filter @type = 'REPORT' | stats count(*), avg(@duration) by bin(1s)" }),
    );
    let results: GetQueryResultsCommandOutput | undefined;
    for (let i = 0; i < 50; i++) {
      results = await client.send(new GetQueryResultsCommand({ queryId }));
      if (results.status !== "Running" && results.status !== "Scheduled") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(results?.status).toBe("Complete");
    const bin = (s: number) => new Date(T0 + s * 1000).toISOString().replace("T", " ").replace("Z", "");
    expect(results?.results).toEqual([0, 1, 2].map((s) => [
      { field: "bin(1s)", value: bin(s) },
      { field: "count(*)", value: "3" },
      { field: "avg(@duration)", value: String(3 * s + 2) },
    ]));
    expect(results?.statistics).toMatchObject({ recordsMatched: 9, recordsScanned: 36 });
  });

  it("errors arrive as the SDK's modeled exceptions", async () => {
    await expect(client.send(new FilterLogEventsCommand({ logGroupName: group, filterPattern: "{ $.x = " }))).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(client.send(new PutRetentionPolicyCommand({ logGroupName: group, retentionInDays: 2 }))).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(client.send(new StartQueryCommand({ logGroupName: group, startTime: 0, endTime: 1, queryString: "dedup @requestId" }))).rejects.toBeInstanceOf(MalformedQueryException);
  });

  it("another tenant sees nothing: its calls fail as for a missing group", async () => {
    const intruder = logsClient(platform, other);
    try {
      expect((await intruder.send(new DescribeLogGroupsCommand({}))).logGroups).toEqual([]);
      const missing = await intruder.send(new FilterLogEventsCommand({ logGroupName: "/aws/lambda/none" })).catch((e: unknown) => e);
      const theirs = await intruder.send(new FilterLogEventsCommand({ logGroupName: group })).catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(ResourceNotFoundException);
      expect(theirs).toBeInstanceOf(ResourceNotFoundException);
      expect((theirs as Error).message).toBe((missing as Error).message);
    } finally {
      intruder.destroy();
    }
  });

  it.skipIf(!existsSync(AWS_CLI))("AWS CLI v1: aws logs filter-log-events and describe-log-groups", async () => {
    const cliEnv = { ...process.env, AWS_ACCESS_KEY_ID: acme.accessKeyId, AWS_SECRET_ACCESS_KEY: acme.secretAccessKey, AWS_DEFAULT_REGION: "us-east-1", AWS_PAGER: "" };
    const common = ["--endpoint-url", platform.url, "--output", "json"];
    const filtered = await run(AWS_CLI, ["logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", "ERROR", ...common], { env: cliEnv });
    expect((JSON.parse(filtered.stdout) as { events: { message: string }[] }).events).toHaveLength(3);
    const groups = await run(AWS_CLI, ["logs", "describe-log-groups", ...common], { env: cliEnv });
    expect((JSON.parse(groups.stdout) as { logGroups: { logGroupName: string }[] }).logGroups.map((g) => g.logGroupName)).toEqual([group]);
  });
  describe("StartLiveTail: a fresh invoke's line reaches a live session", () => {
    const fn = "e2e-tail";
    const tailGroup = `/aws/lambda/${fn}`;
    const invoke = async (marker: string) => {
      const lambda = lambdaClient(platform, acme);
      try {
        const out = await lambda.send(new InvokeCommand({ FunctionName: fn, Payload: new TextEncoder().encode(JSON.stringify({ marker })) }));
        expect(out.FunctionError).toBeUndefined();
      } finally {
        lambda.destroy();
      }
    };

    beforeAll(async () => {
      const lambda = lambdaClient(platform, acme);
      try {
        await createActiveFunction(lambda, fn, 'exports.handler = async (event) => { console.log("tail-marker", event.marker); return "ok"; };');
      } finally {
        lambda.destroy();
      }
      // The group is created by the function's first line, as on Lambda: a session needs it to exist.
      await invoke("warm-up");
      const logs = logsClient(platform, acme);
      try {
        for (let i = 0; i < 50; i++) {
          if ((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: tailGroup }))).logGroups?.length) break;
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        logs.destroy();
      }
    }, 120_000);

    it("with @aws-sdk/client-cloudwatch-logs (disableHostPrefix: true)", async () => {
      const tail = logsClient(platform, acme, { disableHostPrefix: true });
      const abort = new AbortController();
      try {
        const arn = `arn:aws:logs:us-east-1:${acme.accountId}:log-group:${tailGroup}`;
        const out = await tail.send(new StartLiveTailCommand({ logGroupIdentifiers: [arn], logEventFilterPattern: "tail-marker" }), { abortSignal: abort.signal });
        let updatesAfterInvoke = -1;
        let invokedAt = 0;
        for await (const event of out.responseStream ?? []) {
          if (event.sessionStart) {
            expect(event.sessionStart.logGroupIdentifiers).toEqual([arn]);
            await invoke("sdk-live");
            invokedAt = Date.now();
            updatesAfterInvoke = 0;
            continue;
          }
          if (!event.sessionUpdate || updatesAfterInvoke < 0) continue;
          updatesAfterInvoke++;
          const line = event.sessionUpdate.sessionResults?.find((e) => e.message?.includes("sdk-live"));
          if (line) {
            console.log(`live tail (SDK): the invoke's line arrived ${Date.now() - invokedAt} ms after the invoke answered, in update ${updatesAfterInvoke}`);
            expect(line.message).toMatch(/\tINFO\ttail-marker sdk-live/);
            expect(line.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\]/);
            break;
          }
          expect(event.sessionUpdate.sessionResults?.map((e) => e.message)).toEqual([]);
          expect(updatesAfterInvoke, "the line should arrive within 3 updates (about 3 s) of the invoke").toBeLessThan(3);
        }
        expect(updatesAfterInvoke).toBeGreaterThan(0);
      } finally {
        abort.abort();
        tail.destroy();
      }
    }, 60_000);

    it("with the SDK's default host prefix, where stream-<host> resolves to cellfn (the agent's lookup stands in for DNS)", async () => {
      const seen: string[] = [];
      const lookup = (hostname: string, options: LookupOptions, callback: (...args: unknown[]) => void) => {
        seen.push(hostname);
        if (options.all) callback(null, [{ address: "127.0.0.1", family: 4 }]);
        else callback(null, "127.0.0.1", 4);
      };
      const tail = logsClient(platform, acme, { endpoint: `http://cellfn.localhost:${platform.port}`, requestHandler: { httpAgent: new Agent({ lookup: lookup as never }) } });
      const abort = new AbortController();
      try {
        const out = await tail.send(new StartLiveTailCommand({ logGroupIdentifiers: [tailGroup] }), { abortSignal: abort.signal });
        for await (const event of out.responseStream ?? []) {
          expect(event.sessionStart?.logGroupIdentifiers).toEqual([tailGroup]);
          break;
        }
        expect(seen).toEqual(["stream-cellfn.localhost"]);
      } finally {
        abort.abort();
        tail.destroy();
      }
    });

    it.skipIf(!existsSync(AWS_CLI))("with the AWS CLI: aws logs start-live-tail (AWS_DISABLE_HOST_PREFIX_INJECTION=true)", async () => {
      const cliEnv = { ...process.env, AWS_ACCESS_KEY_ID: acme.accessKeyId, AWS_SECRET_ACCESS_KEY: acme.secretAccessKey, AWS_DEFAULT_REGION: "us-east-1", AWS_DISABLE_HOST_PREFIX_INJECTION: "true" };
      const arn = `arn:aws:logs:us-east-1:${acme.accountId}:log-group:${tailGroup}`;
      const cli = spawn(AWS_CLI, ["logs", "start-live-tail", "--log-group-identifiers", arn, "--endpoint-url", platform.url], { env: cliEnv, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      cli.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      cli.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      try {
        // The CLI prints lines as they come and never exits by itself: invoke until one shows (the session may start after the first invoke).
        for (let i = 0; i < 20 && !output.includes("cli-live"); i++) {
          await invoke("cli-live");
          await new Promise((r) => setTimeout(r, 1500));
        }
        expect(output).toMatch(/\tINFO\ttail-marker cli-live/);
      } finally {
        cli.kill("SIGINT");
      }
    }, 60_000);
  });
});
