/**
 * Provisioned concurrency end to end with the real @aws-sdk/client-lambda:
 * a version provisioned with 5 environments answers its first 5 concurrent
 * invocations after an idle period without a cold start (no `Init Duration`
 * in the REPORT line of LogType Tail), while an on-demand function's first 5
 * report one. The idle period is CELLFN_E2E_PC_IDLE_S seconds (default 15):
 * nothing runs in either function during it, only the platform's own checks.
 */
import {
  CreateFunctionCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvokeCommand,
  type LambdaClient,
  ListProvisionedConcurrencyConfigsCommand,
  ProvisionedConcurrencyConfigNotFoundException,
  PublishVersionCommand,
  PutProvisionedConcurrencyConfigCommand,
} from "@aws-sdk/client-lambda";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenantWithKey, lambdaClient, type Platform, startPlatform, type TenantCredentials, untilActive } from "./harness";

const ROLE = "arn:aws:iam::123456789012:role/lambda-role";
const IDLE_MS = Number(process.env.CELLFN_E2E_PC_IDLE_S ?? "15") * 1000;
const CONCURRENCY = 5;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Module init takes a moment (as real init code does) and records how it was initialised. */
const HANDLER_JS = `
const initType = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
const started = Date.now();
while (Date.now() - started < 50) {}
exports.handler = async () => {
  await new Promise((r) => setTimeout(r, 300));
  return { initType };
};
`;

function zipOf(source: string): Uint8Array {
  return zipSync({ "index.js": [strToU8(source), { mtime: new Date("2024-01-01T00:00:00Z") }] });
}

async function createPublished(client: LambdaClient, name: string): Promise<string> {
  await client.send(
    new CreateFunctionCommand({ FunctionName: name, Role: ROLE, Runtime: "nodejs22.x", Handler: "index.handler", Code: { ZipFile: zipOf(HANDLER_JS) } }),
  );
  await untilActive(client, name);
  const published = await client.send(new PublishVersionCommand({ FunctionName: name }));
  if (published.Version === undefined) throw new Error("no version");
  return published.Version;
}

/** CONCURRENCY invocations at once with LogType Tail: each one's REPORT line and payload. */
async function burst(client: LambdaClient, name: string, qualifier: string) {
  return Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      const out = await client.send(new InvokeCommand({ FunctionName: name, Qualifier: qualifier, LogType: "Tail", Payload: new TextEncoder().encode("{}") }));
      const log = Buffer.from(out.LogResult ?? "", "base64").toString("utf8");
      const report = log.split("\n").find((line) => line.startsWith("REPORT ")) ?? "";
      const payload = JSON.parse(new TextDecoder().decode(out.Payload)) as { initType: string };
      return { status: out.StatusCode, error: out.FunctionError, report, initType: payload.initType };
    }),
  );
}

describe("provisioned concurrency (AWS SDK v3)", () => {
  let platform: Platform;
  let client: LambdaClient;
  let creds: TenantCredentials;

  beforeAll(async () => {
    platform = await startPlatform();
    creds = await createTenantWithKey(platform, "warm-start");
    client = lambdaClient(platform, creds);
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it(
    "answers the first 5 concurrent invocations after idle without Init Duration; on-demand ones report it",
    async () => {
      const provisioned = await createPublished(client, "provisioned");
      const onDemand = await createPublished(client, "on-demand");

      const put = await client.send(
        new PutProvisionedConcurrencyConfigCommand({ FunctionName: "provisioned", Qualifier: provisioned, ProvisionedConcurrentExecutions: CONCURRENCY }),
      );
      expect(put.$metadata.httpStatusCode).toBe(202);
      expect(put).toMatchObject({ RequestedProvisionedConcurrentExecutions: CONCURRENCY, AllocatedProvisionedConcurrentExecutions: 0, Status: "IN_PROGRESS" });

      let config = await client.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: "provisioned", Qualifier: provisioned }));
      for (let i = 0; config.Status === "IN_PROGRESS" && i < 120; i++) {
        await sleep(500);
        config = await client.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: "provisioned", Qualifier: provisioned }));
      }
      expect(config).toMatchObject({
        Status: "READY",
        RequestedProvisionedConcurrentExecutions: CONCURRENCY,
        AllocatedProvisionedConcurrentExecutions: CONCURRENCY,
        AvailableProvisionedConcurrentExecutions: CONCURRENCY,
      });

      await sleep(IDLE_MS);

      // A new client after the idle, as a new caller would come: the old one's
      // keep-alive sockets may have been closed by the server while idle, and
      // this client does not retry (maxAttempts 1) a request sent on one.
      const caller = lambdaClient(platform, creds);
      const [hot, cold] = await Promise.all([burst(caller, "provisioned", provisioned), burst(caller, "on-demand", onDemand)]);
      for (const r of [...hot, ...cold]) {
        expect(r.status).toBe(200);
        expect(r.error).toBeUndefined();
        expect(r.report).toMatch(/^REPORT RequestId: /);
      }
      for (const r of hot) {
        expect(r.report).not.toContain("Init Duration");
        expect(r.initType).toBe("provisioned-concurrency");
      }
      for (const r of cold) {
        expect(r.report).toMatch(/\tInit Duration: \d+\.\d\d ms/);
        expect(r.initType).toBe("on-demand");
      }

      const list = await client.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: "provisioned" }));
      expect(list.ProvisionedConcurrencyConfigs?.map((c) => c.FunctionArn)).toEqual([expect.stringMatching(new RegExp(`:function:provisioned:${provisioned}$`))]);

      await client.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: "provisioned", Qualifier: provisioned }));
      await expect(client.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: "provisioned", Qualifier: provisioned }))).rejects.toBeInstanceOf(
        ProvisionedConcurrencyConfigNotFoundException,
      );
    },
    180_000 + IDLE_MS,
  );
});
