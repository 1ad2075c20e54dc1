/**
 * The Lambda Node.js runtime contract inside a Dynamic Worker (issue 11,
 * items 3, 7, 9): the environment's variables, per-invocation variables,
 * raw stdout/stderr, the JSON log format, process.exit, and work left
 * pending when a handler returns.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { buildFunctionCode } from "../../src/code/build";
import { type ExecutionEnvironment, type InvocationRequest, type InvocationResult, invoke } from "../../src/runtime/executor";
import { makeZipBase64 } from "../fixtures/zips";

const bundles = new Map<string, Promise<string>>();
const bundleOf = (source: string) => {
  if (!bundles.has(source)) bundles.set(source, buildFunctionCode(env.LOADER, makeZipBase64({ "index.js": source }), "index.handler").then((b) => b.bundle));
  return bundles.get(source) as Promise<string>;
};

function requestFor(overrides: Partial<InvocationRequest> = {}): InvocationRequest {
  return {
    requestId: crypto.randomUUID(),
    payload: "{}",
    functionName: "my-fn",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:my-fn",
    memoryLimitInMB: 256,
    timeoutSeconds: 3,
    logGroupName: "/aws/lambda/my-fn",
    logStreamName: "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
    ...overrides,
  };
}

/** An execution environment of `source` that keeps its id across calls (warm after the first). */
async function environment(source: string, extra: Partial<ExecutionEnvironment> = {}) {
  const bundle = await bundleOf(source);
  const environment: ExecutionEnvironment = {
    id: `contract-${crypto.randomUUID()}`,
    loadBundle: async () => bundle,
    environment: {},
    egress: null,
    runtime: "nodejs22.x",
    handler: "index.handler",
    ...extra,
  };
  let calls = 0;
  return async (request: Partial<InvocationRequest> = {}): Promise<InvocationResult> => {
    const result = await invoke(env.LOADER, { ...environment, warm: calls > 0 }, requestFor(request));
    calls++;
    return result;
  };
}

/** The function's own lines: between START and END (Text), or platform.start and the next platform record (JSON). */
const appLines = (result: InvocationResult) => {
  const lines = result.log.replace(/\n$/, "").split("\n");
  const start = lines.findIndex((l) => l.startsWith("START ") || l.includes('"type":"platform.start"'));
  const end = lines.findIndex((l, i) => i > start && (l.startsWith("END ") || l.startsWith('{"time":')));
  return lines.slice(start + 1, end);
};

describe("the execution environment's variables", () => {
  it("defines Lambda's paths, the runtime API address and the platform endpoints", async () => {
    const run = await environment("exports.handler = async () => ({ ...process.env });");
    const vars = JSON.parse((await run()).payload);
    expect(vars).toMatchObject({
      LAMBDA_TASK_ROOT: "/var/task",
      LAMBDA_RUNTIME_DIR: "/var/runtime",
      AWS_LAMBDA_RUNTIME_API: "127.0.0.1:9001",
      PATH: "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
      NODE_PATH: "/opt/nodejs/node22/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task",
      LD_LIBRARY_PATH: "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
      PWD: "/var/task",
      AWS_ENDPOINT_URL_LAMBDA: "https://cellfn.internal",
      AWS_ENDPOINT_URL_SQS: "https://cellfn.internal",
      AWS_ENDPOINT_URL_KINESIS: "https://cellfn.internal",
      AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: "https://cellfn.internal",
    });
    // No global endpoint: clients of services cellfn does not serve (S3, DynamoDB) go to AWS as written.
    expect(vars.AWS_ENDPOINT_URL).toBeUndefined();
    expect(vars.AWS_ENDPOINT_URL_S3).toBeUndefined();
  });

  it("lets the function's own variables override an endpoint", async () => {
    const run = await environment("exports.handler = async () => process.env.AWS_ENDPOINT_URL_SQS;", { environment: { AWS_ENDPOINT_URL_SQS: "https://sqs.eu-west-1.amazonaws.com" } });
    expect(JSON.parse((await run()).payload)).toBe("https://sqs.eu-west-1.amazonaws.com");
  });

  it("sets _X_AMZN_TRACE_ID and the session credentials per invocation, before init", async () => {
    const run = await environment(
      "const atInit = process.env.AWS_ACCESS_KEY_ID; exports.handler = async () => ({ atInit, trace: process.env._X_AMZN_TRACE_ID, key: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY, token: process.env.AWS_SESSION_TOKEN, expiration: process.env.AWS_CREDENTIAL_EXPIRATION });",
    );
    const credentials = { accessKeyId: "ASIAEXAMPLE", secretAccessKey: "s3cr3t", sessionToken: "tok", expiration: "2030-01-01T00:00:00.000Z" };
    const first = JSON.parse((await run({ traceId: "Root=1-00000001-aaaaaaaaaaaaaaaaaaaaaaaa;Parent=0000000000000001;Sampled=0", credentials })).payload);
    expect(first).toEqual({ atInit: "ASIAEXAMPLE", trace: "Root=1-00000001-aaaaaaaaaaaaaaaaaaaaaaaa;Parent=0000000000000001;Sampled=0", key: "ASIAEXAMPLE", secret: "s3cr3t", token: "tok", expiration: "2030-01-01T00:00:00.000Z" });
    const second = JSON.parse((await run({ traceId: "Root=1-00000002-bbbbbbbbbbbbbbbbbbbbbbbb;Parent=0000000000000002;Sampled=0", credentials: { ...credentials, sessionToken: "tok2" } })).payload);
    expect(second).toMatchObject({ trace: "Root=1-00000002-bbbbbbbbbbbbbbbbbbbbbbbb;Parent=0000000000000002;Sampled=0", token: "tok2" });
  });
});

describe("logs", () => {
  it("passes process.stdout.write and process.stderr.write through raw, one line per newline", async () => {
    const run = await environment(
      "exports.handler = async () => { process.stdout.write('{\"level\":30,\"msg\":\"pino\"}\\n'); process.stderr.write('{\"_aws\":{\"CloudWatchMetrics\":[]}}\\n'); process.stdout.write('part'); process.stdout.write('ial\\n'); process.stdout.write('unterminated'); return 1; };",
    );
    expect(appLines(await run())).toEqual(['{"level":30,"msg":"pino"}', '{"_aws":{"CloudWatchMetrics":[]}}', "partial", "unterminated"]);
  });

  it("keeps util.debuglog silent unless NODE_DEBUG names the section", async () => {
    const source = "const util = require('util'); const log = util.debuglog('cellfn'); exports.handler = async () => { log('hidden %d', 1); return 1; };";
    const result = await (await environment(source))();
    expect(appLines(result).filter((l) => l.includes("hidden"))).toEqual([]);
  });

  it("writes the JSON log format with ApplicationLogLevel filtering, as the runtime interface client", async () => {
    const run = await environment(
      "exports.handler = async () => { console.debug('dropped'); console.log('plain', 1); console.warn({ a: 1 }); console.error('failed:', new TypeError('boom')); return 1; };",
      { logging: { LogFormat: "JSON", ApplicationLogLevel: "INFO" } },
    );
    const result = await run({ requestId: "11111111-2222-3333-4444-555555555555" });
    const records = appLines(result).map((l) => JSON.parse(l));
    expect(records.map((r) => r.level)).toEqual(["INFO", "WARN", "ERROR"]);
    expect(records[0]).toEqual({ timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), level: "INFO", requestId: "11111111-2222-3333-4444-555555555555", message: "plain 1" });
    expect(records[1].message).toEqual({ a: 1 });
    expect(records[2]).toMatchObject({ level: "ERROR", errorType: "TypeError", errorMessage: "boom", message: expect.stringContaining("failed: TypeError: boom") });
    expect(records[2].stackTrace[0]).toBe("TypeError: boom");
  });
});

describe("the runtime contract", () => {
  it("reports process.exit(n) as Runtime.ExitError with the exit status and retires the environment", async () => {
    const run = await environment("exports.handler = async () => { process.exit(3); return 'unreachable'; };");
    const result = await run({ requestId: "aaaaaaaa-0000-0000-0000-000000000003" });
    expect(JSON.parse(result.payload)).toEqual({ errorType: "Runtime.ExitError", errorMessage: "RequestId: aaaaaaaa-0000-0000-0000-000000000003 Error: Runtime exited with error: exit status 3" });
    expect(result).toMatchObject({ functionError: "Unhandled", reusable: false });
    expect(result.log).toContain("RequestId: aaaaaaaa-0000-0000-0000-000000000003 Error: Runtime exited with error: exit status 3\nRuntime.ExitError\nEND ");
  });

  it("resumes a timer left pending by the last invocation in the next one", async () => {
    const run = await environment("let n = 0; exports.handler = async () => { const mine = ++n; setTimeout(() => console.log('timer of invocation ' + mine), 100); return mine; };");
    const first = await run();
    await new Promise((r) => setTimeout(r, 300));
    const second = await run();
    expect(JSON.parse(second.payload)).toBe(2);
    expect(appLines(first).some((l) => l.endsWith("timer of invocation 1"))).toBe(false);
    expect(appLines(second).some((l) => l.endsWith("timer of invocation 1"))).toBe(true);
  });
});

describe("work left pending by an earlier invocation", () => {
  it("fails the next invocation with the error a resumed timer throws, and retires the environment", async () => {
    const run = await environment("let n = 0; exports.handler = async () => { if (++n === 1) setTimeout(() => { throw new RangeError('late failure'); }, 50); return n; };");
    const first = await run();
    expect(JSON.parse(first.payload)).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    const second = await run();
    expect(JSON.parse(second.payload)).toMatchObject({ errorType: "RangeError", errorMessage: "late failure" });
    expect(second.log).toMatch(/\tERROR\tUncaught Exception \t\{"errorType":"RangeError","errorMessage":"late failure"/);
    expect(second).toMatchObject({ functionError: "Unhandled", reusable: false });
  });

  it("logs a promise a resumed timer rejects, unhandled, as Runtime.UnhandledPromiseRejection", async () => {
    const run = await environment("let n = 0; exports.handler = async () => { if (++n === 1) setTimeout(() => { Promise.reject(new Error('after return')); }, 50); return n; };");
    await run();
    await new Promise((r) => setTimeout(r, 200));
    const second = await run();
    expect(JSON.parse(second.payload)).toMatchObject({ errorType: "Runtime.UnhandledPromiseRejection", errorMessage: "Error: after return" });
    expect(second.log).toContain("\tERROR\tUnhandled Promise Rejection \t");
    expect(second.reusable).toBe(false);
  });
});
