/**
 * What the HTTP frameworks, loggers and LoggingConfig need from the runtime
 * (issue 11, items 6 and 7): node:http responses with an assigned socket (the
 * Lambda adapters), code generation from strings reported clearly, depd
 * without code generation, console._stdout, and the JSON log format's
 * platform records filtered at SystemLogLevel.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { buildFunctionCode } from "../../src/code/build";
import { type ExecutionEnvironment, type InvocationRequest, type InvocationResult, invoke } from "../../src/runtime/executor";
import { makeZipBase64 } from "../fixtures/zips";

function requestFor(overrides: Partial<InvocationRequest> = {}): InvocationRequest {
  return {
    requestId: crypto.randomUUID(),
    payload: "{}",
    functionName: "web",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:web:live",
    memoryLimitInMB: 256,
    timeoutSeconds: 3,
    logGroupName: "/aws/lambda/web",
    logStreamName: "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
    ...overrides,
  };
}

/** An execution environment of the zip `files` that keeps its id across calls (warm after the first). */
async function environment(files: Record<string, string>, extra: Partial<ExecutionEnvironment> = {}) {
  const { bundle } = await buildFunctionCode(env.LOADER, makeZipBase64(files), "index.handler");
  const environment: ExecutionEnvironment = {
    id: `frameworks-${crypto.randomUUID()}`,
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

const payloadOf = (result: InvocationResult) => JSON.parse(result.payload) as Record<string, unknown>;
const records = (result: InvocationResult) =>
  result.lines.filter((l) => l.startsWith('{"time":')).map((l) => JSON.parse(l) as { time: string; type: string; record: Record<string, unknown> });

describe("node:http responses with an assigned socket (serverless-http, @codegenie/serverless-express)", () => {
  it("writes the status line, headers and body to the socket and finishes, as Node does", async () => {
    const run = await environment({
      "index.js": `
const http = require('http');
exports.handler = async () => {
  const writes = [];
  const res = new http.ServerResponse({ method: 'GET', httpVersionMajor: 1, httpVersionMinor: 1, headers: {} });
  res.useChunkedEncodingByDefault = false;
  const socket = { _writableState: {}, writable: true, on() {}, removeListener() {}, destroy() {}, cork() {}, uncork() {},
    write(data, encoding, cb) { writes.push(Buffer.from(data, typeof encoding === 'string' ? encoding : undefined).toString('latin1')); if (typeof cb === 'function') cb(); else if (typeof encoding === 'function') encoding(); return true; } };
  let socketEvent = false;
  res.on('socket', () => { socketEvent = true; });
  res.assignSocket(socket);
  const finished = new Promise((resolve) => res.on('finish', resolve));
  res.statusCode = 201;
  res.setHeader('x-custom', 'yes');
  res.setHeader('content-type', 'text/plain');
  res.end('hello');
  await finished;
  return { raw: writes.join(''), socketEvent, same: res.socket === socket };
};`,
    });
    const out = payloadOf(await run());
    expect(out).toMatchObject({ socketEvent: true, same: true });
    expect(out.same).toBe(true);
    const raw = String(out.raw);
    expect(raw).toMatch(/^HTTP\/1\.1 201 Created\r\n/);
    expect(raw).toContain("x-custom: yes\r\n");
    expect(raw).toMatch(/\r\n\r\nhello$/);
  });
});

describe("node:http requests built on a socket (the adapters' IncomingMessage)", () => {
  it("keeps the socket given to new http.IncomingMessage(socket) and starts a ServerResponse with no statusMessage, as Node (koa, finalhandler)", async () => {
    const run = await environment({
      "index.js": `
const http = require('http');
class ServerlessRequest extends http.IncomingMessage {}
exports.handler = async () => {
  const req = new http.IncomingMessage({ encrypted: true, remoteAddress: '203.0.113.7' });
  const sub = new ServerlessRequest({ encrypted: false });
  const res = new http.ServerResponse(req);
  return [req.socket.encrypted, req.connection.remoteAddress, sub.socket.encrypted, sub instanceof http.IncomingMessage, req instanceof ServerlessRequest,
    res.statusMessage === undefined, res instanceof http.ServerResponse];
};`,
    });
    expect(JSON.parse((await run()).payload)).toEqual([true, "203.0.113.7", false, true, false, true, true]);
  });
});

describe("code generation from strings", () => {
  it("reports new Function in the handler as Runtime.CodeGenerationFromStringsNotAllowed, naming the eval-free ways", async () => {
    const run = await environment({ "index.js": "exports.handler = async () => new Function('return 1')();" });
    const result = await run();
    expect(result.functionError).toBe("Unhandled");
    const error = payloadOf(result);
    expect(error.errorType).toBe("Runtime.CodeGenerationFromStringsNotAllowed");
    expect(error.errorMessage).toMatch(/eval\(\) and new Function\(\) are not supported/);
    expect(error.errorMessage).toMatch(/ajv\/dist\/standalone/);
    expect(error.errorMessage).toMatch(/handlebars\/runtime/);
    expect(result.log).toContain("Runtime.CodeGenerationFromStringsNotAllowed");
  });

  it("reports eval in the module code as the init error of that type", async () => {
    const run = await environment({ "index.js": "const v = eval('1 + 1');\nexports.handler = async () => v;" });
    const result = await run();
    expect(payloadOf(result).errorType).toBe("Runtime.CodeGenerationFromStringsNotAllowed");
    expect(result.reusable).toBe(false);
  });

  it("runs depd's deprecated wrappers (express 4, koa) without code generation, keeping the wrapped function's length", async () => {
    // depd@2's wrapfunction, as published.
    const depd = [
      "'use strict'",
      "module.exports = function depd (namespace) { function deprecate (message) {} deprecate.function = wrapfunction; return deprecate }",
      "function log () { globalThis.__logged = (globalThis.__logged || 0) + 1 }",
      "function wrapfunction (fn, message) {",
      "  var site = {}",
      "  // eslint-disable-next-line no-new-func",
      "  var deprecatedfn = new Function('fn', 'log', 'deprecate', 'message', 'site',",
      "    '\"use strict\"\\n' +",
      "    'return function (' + 'arg0, arg1' + ') {' +",
      "    'log.call(deprecate, message, site)\\n' +",
      "    'return fn.apply(this, arguments)\\n' +",
      "    '}')(fn, log, this, message, site)",
      "  return deprecatedfn",
      "}",
    ].join("\n");
    const run = await environment({
      "node_modules/depd/package.json": JSON.stringify({ name: "depd", version: "2.0.0", main: "index.js" }),
      "node_modules/depd/index.js": depd,
      "index.js": "const deprecate = require('depd')('app');\nconst add = deprecate.function((a, b) => a + b, 'use plus');\nexports.handler = async () => [add(2, 3), add.length, globalThis.__logged];",
    });
    expect(JSON.parse((await run()).payload)).toEqual([5, 2, 1]);
  });
});

describe("loggers", () => {
  it("gives console._stdout and console._stderr (winston's Console transport) that write raw lines", async () => {
    const run = await environment({ "index.js": "exports.handler = async () => { console._stdout.write('{\"level\":\"info\",\"message\":\"w\"}\\n'); console._stderr.write('err line\\n'); return 1; };" });
    const lines = (await run()).lines;
    expect(lines).toContain('{"level":"info","message":"w"}');
    expect(lines).toContain("err line");
  });

  it("bundles a module that starts with 'use strict' and no semicolon (pino) when it needs a path preamble", async () => {
    const run = await environment({ "index.js": "'use strict'\nconst here = __dirname\nexports.handler = async () => here;" });
    expect(JSON.parse((await run()).payload)).toBe("/var/task");
  });
});

describe("LoggingConfig LogFormat JSON: platform records", () => {
  const json = (system: string, application = "INFO") => ({ logging: { LogFormat: "JSON", ApplicationLogLevel: application, SystemLogLevel: system } });

  it("writes platform.initStart, platform.start and platform.report (INFO) instead of START, END and REPORT", async () => {
    const run = await environment({ "index.js": "exports.handler = async () => { console.log('hi'); return 1; };" }, json("INFO"));
    const cold = await run({ requestId: "aaaaaaaa-0000-0000-0000-000000000001" });
    expect(cold.lines.some((l) => /^(START|END|REPORT) /.test(l))).toBe(false);
    const [initStart, start, report] = records(cold);
    expect(records(cold).map((r) => r.type)).toEqual(["platform.initStart", "platform.start", "platform.report"]);
    expect(initStart?.record).toEqual({
      initializationType: "on-demand", phase: "init", runtimeVersion: "cellfn-nodejs22.x",
      runtimeVersionArn: "arn:aws:lambda:eu-west-1::runtime:cellfn-nodejs22.x", functionName: "web", functionVersion: "$LATEST",
    });
    expect(start?.record).toEqual({ requestId: "aaaaaaaa-0000-0000-0000-000000000001", functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:web", version: "$LATEST" });
    expect(report?.record).toEqual({
      requestId: "aaaaaaaa-0000-0000-0000-000000000001",
      metrics: { durationMs: expect.any(Number), billedDurationMs: cold.billedDurationMs, memorySizeMB: 256, initDurationMs: expect.any(Number) },
      status: "success",
    });
    expect(report?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // The console line sits between start and report.
    const hi = cold.lines.findIndex((l) => l.includes('"message":"hi"'));
    expect(hi).toBeGreaterThan(cold.lines.findIndex((l) => l.includes("platform.start")));
    expect(hi).toBeLessThan(cold.lines.findIndex((l) => l.includes("platform.report")));

    const warm = await run();
    expect(records(warm).map((r) => r.type)).toEqual(["platform.start", "platform.report"]);
    expect((records(warm)[1]?.record.metrics as Record<string, unknown>).initDurationMs).toBeUndefined();
  });

  it("adds platform.runtimeDone at SystemLogLevel DEBUG and writes no platform record at WARN", async () => {
    const debug = await (await environment({ "index.js": "exports.handler = async () => 1;" }, json("DEBUG")))();
    expect(records(debug).map((r) => r.type)).toEqual(["platform.initStart", "platform.start", "platform.runtimeDone", "platform.report"]);
    expect(records(debug)[2]?.record).toMatchObject({ status: "success", metrics: { durationMs: expect.any(Number) } });
    const warn = await (await environment({ "index.js": "exports.handler = async () => { console.warn('careful'); return 1; };" }, json("WARN")))();
    expect(records(warn)).toEqual([]);
    expect(warn.lines.map((l) => JSON.parse(l).message)).toEqual(["careful"]);
  });

  it("reports a function error and a timeout in the report's status", async () => {
    const failing = await (await environment({ "index.js": "exports.handler = async () => { throw new RangeError('no'); };" }, json("INFO")))();
    expect(records(failing).at(-1)?.record).toMatchObject({ status: "error", errorType: "RangeError" });
    const slow = await (await environment({ "index.js": "exports.handler = () => new Promise((resolve) => setTimeout(resolve, 5000));" }, json("INFO")))({ timeoutSeconds: 1 });
    expect(slow.timedOut).toBe(true);
    expect(records(slow).at(-1)?.record).toMatchObject({ status: "timeout" });
    expect(slow.lines.some((l) => l.includes("Task timed out"))).toBe(false);
  });

  it("filters raw stdout lines at ApplicationLogLevel by their own level field, INFO without one", async () => {
    const run = await environment(
      {
        "index.js":
          "exports.handler = async () => { process.stdout.write('{\"level\":\"info\",\"m\":1}\\n{\"level\":\"ERROR\",\"m\":2}\\nplain\\n{\"level\":30,\"m\":3}\\n{\"level\":\"warn\",\"m\":4}\\n'); return 1; };",
      },
      json("WARN", "WARN"),
    );
    expect((await run()).lines).toEqual(['{"level":"ERROR","m":2}', '{"level":"warn","m":4}']);
  });

  it("keeps the Text format's lines, with no Max Memory Used field (an isolate's memory cannot be measured)", async () => {
    const result = await (await environment({ "index.js": "exports.handler = async () => 1;" }))();
    expect(result.lines[0]).toMatch(/^START RequestId: \S+ Version: \$LATEST$/);
    const report = result.lines.at(-1) ?? "";
    expect(report).toMatch(/^REPORT RequestId: \S+\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tInit Duration: \d+\.\d\d ms\t$/);
    expect(report).not.toContain("Max Memory Used");
  });
});
