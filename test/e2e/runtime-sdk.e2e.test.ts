/**
 * A function that uses the AWS SDK v3 exactly as it would on Lambda (issue 11
 * items 2 and 8): `new LambdaClient({})` with no configuration finds cellfn's
 * endpoint and the environment's session credentials, lists and invokes its
 * tenant's functions; and InvokeWithResponseStream decoded by the real SDK,
 * first chunk before the handler finishes.
 *
 * "caller" bundles the SDK with esbuild, as users bundle their Lambda
 * functions; "caller-preinstalled" is the same code zipped alone, so it runs
 * on cellfn's preinstalled copy (scripts/build-platform-sdk.mjs, whose
 * default credential chain keeps only the environment link); "every-client"
 * resolves credentials and region in each preinstalled client, and without
 * the environment's credentials gets the SDK's own chain error.
 */
import { CreateFunctionCommand, InvokeCommand, InvokeWithResponseStreamCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { bundled } from "./bundle";
import { PLATFORM_SDK } from "../../src/code/platform-sdk.generated";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenantWithKey, lambdaClient, type Platform, startPlatform, type TenantCredentials, untilActive } from "./harness";

const ROLE = "arn:aws:iam::123456789012:role/lambda-role";
const MTIME = new Date("2024-01-01T00:00:00Z");
const zipOf = (files: Record<string, string>) => zipSync(Object.fromEntries(Object.entries(files).map(([name, source]) => [name, [strToU8(source), { mtime: MTIME }]])));

const CALLER = `
const { LambdaClient, ListFunctionsCommand, InvokeCommand } = require("@aws-sdk/client-lambda");
const client = new LambdaClient({});
exports.handler = async () => {
  const list = await client.send(new ListFunctionsCommand({}));
  const sync = await client.send(new InvokeCommand({ FunctionName: "callee", Payload: JSON.stringify({ from: "caller" }) }));
  const event = await client.send(new InvokeCommand({ FunctionName: "callee", InvocationType: "Event", Payload: "{}" }));
  let foreign;
  try { await client.send(new InvokeCommand({ FunctionName: process.env.FOREIGN_ARN })); } catch (error) { foreign = error.name; }
  return {
    names: list.Functions.map((f) => f.FunctionName).sort(),
    result: JSON.parse(Buffer.from(sync.Payload).toString()),
    eventStatus: event.StatusCode,
    foreign,
    keyId: process.env.AWS_ACCESS_KEY_ID.slice(0, 4),
  };
};
`;

/** Imports every preinstalled package; each client, built with `{}`, finds the environment's credentials and region. */
const PACKAGES = Object.keys(PLATFORM_SDK);
const EVERY_CLIENT =
  PACKAGES.map((name, i) => `import * as m${i} from ${JSON.stringify(name)};\n`).join("") + `
const packages = [${PACKAGES.map((name, i) => `[${JSON.stringify(name)}, m${i}]`).join(", ")}];
const clientOf = (m) => Object.entries(m).find(([key, value]) => /^[A-Z]\\w*Client$/.test(key) && key !== "__Client" && typeof value === "function")[1];
export const handler = async () => {
  const clients = {};
  for (const [name, m] of packages) {
    if (!name.startsWith("@aws-sdk/client-")) { clients[name] = typeof m.DynamoDBDocumentClient?.from; continue; }
    const config = new (clientOf(m))({}).config;
    const credentials = await config.credentials();
    clients[name] = [credentials.accessKeyId === process.env.AWS_ACCESS_KEY_ID, Boolean(credentials.sessionToken), (await config.region()) === process.env.AWS_REGION];
  }
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  delete process.env.AWS_ACCESS_KEY_ID;
  delete process.env.AWS_SECRET_ACCESS_KEY;
  let withoutEnvironment;
  try {
    await new m0.LambdaClient({}).config.credentials();
  } catch (error) {
    withoutEnvironment = [error.name, error.message];
  } finally {
    process.env.AWS_ACCESS_KEY_ID = saved.id;
    process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  }
  return { clients, withoutEnvironment };
};
`;

const STREAMER = `
exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.write("hello ");
  await new Promise((r) => setTimeout(r, 1500));
  responseStream.write("world");
  responseStream.end();
});
`;

describe("the AWS SDK inside a function", () => {
  let platform: Platform;
  let acme: TenantCredentials;
  let other: TenantCredentials;
  let lambda: LambdaClient;

  beforeAll(async () => {
    platform = await startPlatform();
    acme = await createTenantWithKey(platform, "sdk-acme");
    other = await createTenantWithKey(platform, "sdk-other");
    lambda = lambdaClient(platform, acme);
    const otherLambda = lambdaClient(platform, other);
    // Created, then waited for Active with the SDK's waiter, as a user's deploy script does.
    const create = async (client: LambdaClient, name: string, source: string, env: Record<string, string> = {}) => {
      await client.send(new CreateFunctionCommand({
        FunctionName: name, Role: ROLE, Runtime: "nodejs22.x", Handler: "index.handler", Timeout: 30,
        Code: { ZipFile: zipOf({ "index.js": source }) }, Environment: { Variables: env },
      }));
      await untilActive(client, name);
    };
    const foreign = { FOREIGN_ARN: `arn:aws:lambda:us-east-1:${other.accountId}:function:private` };
    const everyClient = async () => {
      await lambda.send(new CreateFunctionCommand({
        FunctionName: "every-client", Role: ROLE, Runtime: "nodejs22.x", Handler: "index.handler", Timeout: 30,
        Code: { ZipFile: zipOf({ "index.mjs": EVERY_CLIENT }) },
      }));
      await untilActive(lambda, "every-client");
    };
    await Promise.all([
      create(otherLambda, "private", "exports.handler = async () => 'secret';"),
      create(lambda, "callee", "exports.handler = async (event) => ({ got: event, key: process.env.AWS_ACCESS_KEY_ID.slice(0, 4) });"),
      bundled(CALLER).then((source) => create(lambda, "caller", source, foreign)),
      create(lambda, "caller-preinstalled", CALLER, foreign),
      everyClient(),
      create(lambda, "streamer", STREAMER),
    ]);
    otherLambda.destroy();
  }, 300_000);

  afterAll(async () => {
    lambda?.destroy();
    await platform?.stop();
  });

  it("new LambdaClient({}) lists and invokes the tenant's functions, and is refused another tenant's", async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: "caller", LogType: "Tail" }));
    const body = JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString());
    if (out.FunctionError) throw new Error(`${JSON.stringify(body)}\n${Buffer.from(out.LogResult ?? "", "base64").toString()}`);
    expect(body).toEqual({
      names: ["callee", "caller", "caller-preinstalled", "every-client", "streamer"],
      result: { got: { from: "caller" }, key: "ASIA" },
      eventStatus: 202,
      foreign: "AccessDeniedException",
      keyId: "ASIA",
    });
  }, 60_000);

  it("the same code on the preinstalled SDK: environment credentials, the tenant's functions, another tenant's refused", async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: "caller-preinstalled", LogType: "Tail" }));
    const body = JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString());
    if (out.FunctionError) throw new Error(`${JSON.stringify(body)}\n${Buffer.from(out.LogResult ?? "", "base64").toString()}`);
    expect(body.names).toEqual(["callee", "caller", "caller-preinstalled", "every-client", "streamer"]);
    expect(body).toMatchObject({ result: { got: { from: "caller" }, key: "ASIA" }, eventStatus: 202, foreign: "AccessDeniedException", keyId: "ASIA" });
  }, 60_000);

  it("every preinstalled client finds the environment's credentials and region; without them the SDK's chain error", async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: "every-client", LogType: "Tail" }));
    const body = JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString());
    if (out.FunctionError) throw new Error(`${JSON.stringify(body)}\n${Buffer.from(out.LogResult ?? "", "base64").toString()}`);
    expect(PACKAGES).toContain("@aws-sdk/client-lambda");
    expect(body.clients).toEqual(Object.fromEntries(PACKAGES.map((name) => [name, name.startsWith("@aws-sdk/client-") ? [true, true, true] : "function"])));
    expect(body.withoutEnvironment).toEqual(["CredentialsProviderError", "Could not load credentials from any providers"]);
  }, 60_000);

  it("InvokeWithResponseStream: the SDK decodes the chunks, the first before the handler finishes", async () => {
    const out = await lambda.send(new InvokeWithResponseStreamCommand({ FunctionName: "streamer" }));
    expect(out.StatusCode).toBe(200);
    const chunks: { text: string; at: number }[] = [];
    let complete: unknown;
    for await (const event of out.EventStream ?? []) {
      if (event.PayloadChunk?.Payload) chunks.push({ text: Buffer.from(event.PayloadChunk.Payload).toString(), at: Date.now() });
      if (event.InvokeComplete) complete = event.InvokeComplete;
    }
    expect(chunks.map((c) => c.text).join("")).toBe("hello world");
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect((chunks.at(-1)?.at ?? 0) - (chunks[0]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(complete).toEqual({});
  }, 60_000);
});
