/**
 * A multi-step deployment as a script or CI job runs it against Lambda, with
 * the real `@aws-sdk/client-lambda` and its waiters (and the AWS CLI's
 * `aws lambda wait ...` when the CLI is installed): create, wait until
 * Active, update the code, wait until the update is Successful, publish, wait
 * until the version is Active, alias, shift weights. Expected states and
 * acceptors are the SDK's and botocore's own waiter definitions
 * (botocore/data/lambda/2015-03-31/waiters-2.json: FunctionActiveV2 and
 * FunctionUpdatedV2 poll GetFunction's Configuration.State /
 * LastUpdateStatus, PublishedVersionActive polls GetFunctionConfiguration's State).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  type LambdaClient,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  waitUntilPublishedVersionActive,
} from "@aws-sdk/client-lambda";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenantWithKey, lambdaClient, type Platform, startPlatform, type TenantCredentials } from "./harness";

const run = promisify(execFile);
const ROLE = "arn:aws:iam::123456789012:role/lambda-role";
const WAITER = { maxWaitTime: 60, minDelay: 1, maxDelay: 2 } as const;

function zipOf(source: string): Uint8Array {
  return zipSync({ "index.js": [strToU8(source), { mtime: new Date("2024-01-01T00:00:00Z") }] });
}
const zipVersion = (n: number) => zipOf(`exports.handler = async () => ({ release: ${n} });\n`);

async function hasAwsCli(): Promise<boolean> {
  try {
    await run("aws", ["--version"]);
    return true;
  } catch {
    return false;
  }
}

describe("deployment with the SDK's waiters", () => {
  let platform: Platform;
  let acme: TenantCredentials;
  let lambda: LambdaClient;
  const waiter = () => ({ client: lambda, ...WAITER });
  const release = async (qualifier?: string) => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: "deployed", ...(qualifier ? { Qualifier: qualifier } : {}) }));
    return { version: out.ExecutedVersion, body: JSON.parse(new TextDecoder().decode(out.Payload)) as { release: number } };
  };

  beforeAll(async () => {
    platform = await startPlatform();
    acme = await createTenantWithKey(platform, "deployer");
    lambda = lambdaClient(platform, acme);
  });

  afterAll(async () => {
    lambda?.destroy();
    await platform?.stop();
  });

  it("create → Pending, waitUntilFunctionActiveV2 → Active, then it runs", async () => {
    const created = await lambda.send(
      new CreateFunctionCommand({ FunctionName: "deployed", Role: ROLE, Runtime: "nodejs22.x", Handler: "index.handler", Code: { ZipFile: zipVersion(1) } }),
    );
    expect(created).toMatchObject({ State: "Pending", StateReason: "The function is being created.", StateReasonCode: "Creating" });
    expect(created.LastUpdateStatus).toBeUndefined();
    const waited = await waitUntilFunctionActiveV2(waiter(), { FunctionName: "deployed" });
    expect(waited.state).toBe("SUCCESS");
    expect(await release()).toEqual({ version: "$LATEST", body: { release: 1 } });
  });

  it("publish v1 and waitUntilPublishedVersionActive; alias live → 1", async () => {
    const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: "deployed" }));
    expect(v1.Version).toBe("1");
    expect((await waitUntilPublishedVersionActive(waiter(), { FunctionName: "deployed", Qualifier: "1" })).state).toBe("SUCCESS");
    await lambda.send(new CreateAliasCommand({ FunctionName: "deployed", Name: "live", FunctionVersion: "1" }));
    expect(await release("live")).toEqual({ version: "1", body: { release: 1 } });
  });

  it("update code → InProgress; a second update meanwhile is a 409 the SDK names; waitUntilFunctionUpdatedV2 → Successful", async () => {
    const updating = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: "deployed", ZipFile: zipVersion(2) }));
    expect(updating).toMatchObject({ State: "Active", LastUpdateStatus: "InProgress", LastUpdateStatusReasonCode: "Creating" });
    // Either the update is still running (409 with AWS's message) or it already finished.
    const second = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: "deployed", Timeout: 5 })).then(
      () => null,
      (err: Error & { $metadata?: { httpStatusCode?: number } }) => err,
    );
    if (second) {
      expect({ name: second.name, status: second.$metadata?.httpStatusCode, message: second.message }).toEqual({
        name: "ResourceConflictException",
        status: 409,
        message: `The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:${acme.accountId}:function:deployed`,
      });
    }
    expect((await waitUntilFunctionUpdatedV2(waiter(), { FunctionName: "deployed" })).state).toBe("SUCCESS");
    expect(await release()).toEqual({ version: "$LATEST", body: { release: 2 } });
    expect(await release("live")).toEqual({ version: "1", body: { release: 1 } });
  });

  it("publish v2, shift 50 % of live to it, then all of it", async () => {
    const v2 = await lambda.send(new PublishVersionCommand({ FunctionName: "deployed", Description: "release 2" }));
    expect(v2.Version).toBe("2");
    await waitUntilPublishedVersionActive(waiter(), { FunctionName: "deployed", Qualifier: "2" });
    await lambda.send(new UpdateAliasCommand({ FunctionName: "deployed", Name: "live", RoutingConfig: { AdditionalVersionWeights: { "2": 0.5 } } }));
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 30 && seen.size < 2; i++) seen.add((await release("live")).version);
    expect([...seen].sort()).toEqual(["1", "2"]);
    await lambda.send(new UpdateAliasCommand({ FunctionName: "deployed", Name: "live", FunctionVersion: "2", RoutingConfig: { AdditionalVersionWeights: {} } }));
    expect(await release("live")).toEqual({ version: "2", body: { release: 2 } });
  });

  it("a broken update makes waitUntilFunctionUpdatedV2 fail, and the previous code keeps running", async () => {
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: "deployed", ZipFile: zipOf("exports.handler = async () => ({ release: ;\n") }));
    await expect(waitUntilFunctionUpdatedV2(waiter(), { FunctionName: "deployed" })).rejects.toThrow(/FAILURE/);
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: "deployed" }));
    expect(config).toMatchObject({ State: "Active", LastUpdateStatus: "Failed", LastUpdateStatusReasonCode: "InvalidZipFileException" });
    expect(await release()).toEqual({ version: "$LATEST", body: { release: 2 } });
  });

  it("the AWS CLI's waiters: function-active-v2, function-updated-v2, published-version-active", async (ctx) => {
    if (!(await hasAwsCli())) ctx.skip();
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: acme.accessKeyId,
      AWS_SECRET_ACCESS_KEY: acme.secretAccessKey,
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_REGION: "us-east-1",
    };
    const aws = (...args: string[]) => run("aws", ["lambda", ...args, "--endpoint-url", platform.url], { env, timeout: 60_000 });
    await lambda.send(
      new CreateFunctionCommand({ FunctionName: "cli", Role: ROLE, Runtime: "nodejs22.x", Handler: "index.handler", Code: { ZipFile: zipVersion(1) } }),
    );
    await aws("wait", "function-active-v2", "--function-name", "cli");
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: "cli", ZipFile: zipVersion(3) }));
    await aws("wait", "function-updated-v2", "--function-name", "cli");
    const published = JSON.parse((await aws("publish-version", "--function-name", "cli")).stdout) as { Version: string };
    await aws("wait", "published-version-active", "--function-name", "cli", "--qualifier", published.Version);
    expect(await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: "cli", Qualifier: published.Version }))).toMatchObject({
      State: "Active",
      Version: "1",
    });
  });
});
