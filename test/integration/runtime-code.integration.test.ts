/**
 * The function's code as Node sees it in Lambda (issue 11, items 4 and 5):
 * the zip's files on disk under /var/task, module paths, a /tmp that lives as
 * long as the execution environment, and requires that Node fails only when
 * they run (absent packages, native addons). Each case builds a real zip
 * (buildFunctionCode) and invokes it in a Dynamic Worker through the executor.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { buildFunctionCode } from "../../src/code/build";
import { type ExecutionEnvironment, type InvocationResult, invoke } from "../../src/runtime/executor";
import { makeZipBase64 } from "../fixtures/zips";

type Files = Record<string, string | Uint8Array>;

async function deploy(files: Files, handler = "index.handler") {
  const { bundle } = await buildFunctionCode(env.LOADER, makeZipBase64(files), handler);
  return bundle;
}

function environment(bundle: string, options: { id?: string; handler?: string; ephemeralStorageMB?: number; warm?: boolean } = {}): ExecutionEnvironment {
  return {
    id: options.id ?? `runtime-code-${crypto.randomUUID()}`,
    loadBundle: async () => bundle,
    environment: {},
    egress: null,
    runtime: "nodejs22.x",
    handler: options.handler ?? "index.handler",
    ...(options.ephemeralStorageMB === undefined ? {} : { ephemeralStorageMB: options.ephemeralStorageMB }),
    ...(options.warm === undefined ? {} : { warm: options.warm }),
  };
}

async function call(env_: ExecutionEnvironment, event: unknown = {}): Promise<InvocationResult> {
  return invoke(env.LOADER, env_, {
    requestId: crypto.randomUUID(),
    payload: JSON.stringify(event),
    functionName: "fn",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:fn",
    memoryLimitInMB: 128,
    timeoutSeconds: 5,
    logGroupName: "/aws/lambda/fn",
    logStreamName: "2026/01/01/[$LATEST]00000000000000000000000000000000",
  });
}

async function runOnce(files: Files, event: unknown = {}, handler = "index.handler") {
  const result = await call(environment(await deploy(files, handler), { handler }), event);
  return { ...result, value: JSON.parse(result.payload) as unknown };
}

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe]);

describe("code on disk at /var/task", () => {
  it("reads the zip's text and binary files through fs and fs/promises, absolute and relative to the cwd", async () => {
    const { value, functionError } = await runOnce({
      "index.js": [
        "const fs = require('fs');",
        "const fsp = require('fs/promises');",
        "const path = require('path');",
        "exports.handler = async () => ({",
        "  template: fs.readFileSync(path.join(__dirname, 'views/page.html'), 'utf8'),",
        "  relative: fs.readFileSync('./config.json', { encoding: 'utf8' }),",
        "  absolute: (await fsp.readFile('/var/task/config.json')).toString(),",
        "  binary: [...fs.readFileSync('/var/task/assets/logo.png')],",
        "  size: fs.statSync('assets/logo.png').size,",
        "  isDir: fs.statSync('/var/task/views').isDirectory(),",
        "  list: fs.readdirSync('/var/task').sort(),",
        "  kinds: fs.readdirSync('/var/task', { withFileTypes: true }).map((d) => [d.name, d.isFile(), d.isDirectory(), d.isSymbolicLink()]),",
        "  fileIsFile: [fs.statSync('config.json').isFile(), fs.statSync('views').isFile()],",
        "  exists: [fs.existsSync('/var/task/index.js'), fs.existsSync('/var/task/nope.txt')],",
        "  cwd: process.cwd(),",
        "  missing: (() => { try { fs.readFileSync('nope.txt'); } catch (e) { return [e.code, e.message]; } })(),",
        "  readOnly: (() => { try { fs.writeFileSync('/var/task/x', '1'); } catch (e) { return e.code; } })(),",
        "  callback: await new Promise((r) => fs.readFile('views/page.html', 'utf8', (err, text) => r(err ? err.code : text.length))),",
        "});",
      ].join("\n"),
      "views/page.html": "<h1>{{title}}</h1>",
      "config.json": '{"stage":"prod"}',
      "assets/logo.png": PNG,
    });
    expect(functionError).toBeUndefined();
    expect(value).toEqual({
      template: "<h1>{{title}}</h1>",
      relative: '{"stage":"prod"}',
      absolute: '{"stage":"prod"}',
      binary: [...PNG],
      size: PNG.byteLength,
      isDir: true,
      list: ["assets", "config.json", "index.js", "views"],
      kinds: [["assets", false, true, false], ["config.json", true, false, false], ["index.js", true, false, false], ["views", false, true, false]],
      fileIsFile: [true, false],
      exists: [true, false],
      cwd: "/var/task",
      missing: ["ENOENT", "ENOENT: no such file or directory, open '/var/task/nope.txt'"],
      readOnly: "EROFS",
      callback: 18,
    });
  });

  it("gives CommonJS modules their real __dirname/__filename and ES modules their import.meta", async () => {
    const { value } = await runOnce({
      "index.mjs": [
        "import { readFileSync } from 'node:fs';",
        "import lib from './lib/paths.cjs';",
        "export const handler = async () => ({",
        "  url: import.meta.url, dirname: import.meta.dirname, filename: import.meta.filename,",
        "  sibling: readFileSync(new URL('./data.txt', import.meta.url), 'utf8'),",
        "  lib,",
        "});",
      ].join("\n"),
      "data.txt": "beside me",
      "lib/paths.cjs": "'use strict';\nmodule.exports = { dirname: __dirname, filename: __filename, resolved: require.resolve('./paths.cjs'), builtin: require.resolve('fs') };",
    });
    expect(value).toEqual({
      url: "file:///var/task/index.mjs",
      dirname: "/var/task",
      filename: "/var/task/index.mjs",
      sibling: "beside me",
      lib: { dirname: "/var/task/lib", filename: "/var/task/lib/paths.cjs", resolved: "/var/task/lib/paths.cjs", builtin: "fs" },
    });
  });

  it("keeps /tmp across warm invocations of one environment, and never shares it with another", async () => {
    const bundle = await deploy({
      "index.js": [
        "const fs = require('fs');",
        "exports.handler = async (event) => {",
        "  if (event.write) { fs.mkdirSync('/tmp/cache', { recursive: true }); fs.writeFileSync('/tmp/cache/n.txt', event.write); }",
        "  return fs.existsSync('/tmp/cache/n.txt') ? fs.readFileSync('/tmp/cache/n.txt', 'utf8') : null;",
        "};",
      ].join("\n"),
    });
    const first = environment(bundle);
    expect((await call(first, { write: "42" })).payload).toBe('"42"');
    expect((await call({ ...first, warm: true }, {})).payload).toBe('"42"');
    // Another environment of the same function starts with an empty /tmp.
    expect((await call(environment(bundle), {})).payload).toBe("null");
  });

  it("refuses writes past EphemeralStorage with ENOSPC and frees space on unlink", async () => {
    const bundle = await deploy({
      "index.js": [
        "const fs = require('fs');",
        "exports.handler = async () => {",
        "  const mb = Buffer.alloc(1024 * 1024, 1);",
        "  let written = 0, error;",
        "  try { for (;;) { fs.writeFileSync('/tmp/f' + written, mb); written++; } } catch (e) { error = [e.code, e.message]; }",
        "  fs.unlinkSync('/tmp/f0');",
        "  fs.writeFileSync('/tmp/again', mb);",
        "  return { written, error, files: fs.readdirSync('/tmp') };",
        "};",
      ].join("\n"),
    });
    // The API's minimum is 512 MB, more than a test isolate's memory: the executor's setting is used directly.
    const result = await call(environment(bundle, { ephemeralStorageMB: 3 }));
    expect(JSON.parse(result.payload)).toEqual({
      written: 3,
      error: ["ENOSPC", "ENOSPC: no space left on device, write '/tmp/f3'"],
      files: ["again", "f1", "f2"],
    });
  });
});

describe("requires that Node fails only when they run", () => {
  it("accepts optional dependencies in try/catch and fails an absent one with Node's MODULE_NOT_FOUND when executed", async () => {
    const { value } = await runOnce({
      "index.js": [
        "let color = 'none';",
        "try { color = require('supports-color'); } catch (e) { color = [e.code, e.message]; }",
        "exports.handler = async (event) => {",
        "  if (event.require) return require(event.require);",
        "  return color;",
        "};",
      ].join("\n"),
    });
    expect(value).toEqual(["MODULE_NOT_FOUND", "Cannot find module 'supports-color'\nRequire stack:\n- /var/task/index.js"]);
  });

  it("reports a top-level require of an absent package as Runtime.ImportModuleError at invoke, not at upload", async () => {
    const { value, functionError } = await runOnce({ "index.js": "const pad = require('left-pad');\nexports.handler = () => pad('x', 3);" });
    expect(functionError).toBe("Unhandled");
    expect(value).toMatchObject({
      errorType: "Runtime.ImportModuleError",
      errorMessage: "Error: Cannot find module 'left-pad'\nRequire stack:\n- /var/task/index.js",
    });
  });

  it("resolves computed requires against the zip's files", async () => {
    const { value } = await runOnce(
      {
        "index.js": [
          "exports.handler = async (event) => ({",
          "  ids: event.names.map((name) => require('./plugins/' + name).id),",
          "  locale: (await import(`./locales/${event.lang}.mjs`)).hello,",
          "  missing: (() => { try { require('./plugins/' + 'gamma'); } catch (e) { return [e.code, e.message]; } })(),",
          "});",
        ].join("\n"),
        "plugins/alpha.js": "exports.id = 'alpha';",
        "plugins/beta.js": "exports.id = 'beta';",
        "locales/fr.mjs": "export const hello = 'bonjour';",
      },
      { names: ["beta", "alpha.js"], lang: "fr" },
    );
    expect(value).toEqual({ ids: ["beta", "alpha"], locale: "bonjour", missing: ["MODULE_NOT_FOUND", "Cannot find module './plugins/gamma'"] });
  });

  it("fails a fully dynamic require of an absent package as Node does, and loads built-ins that way", async () => {
    const { value } = await runOnce({
      "index.js": [
        "exports.handler = async () => {",
        "  const name = ['left', 'pad'].join('-');",
        "  let error; try { require(name); } catch (e) { error = [e.code, e.message]; }",
        "  const builtin = ['pa', 'th'].join('');",
        "  return { error, join: require(builtin).join('a', 'b') };",
        "};",
      ].join("\n"),
    });
    expect(value).toEqual({ error: ["MODULE_NOT_FOUND", "Cannot find module 'left-pad'"], join: "a/b" });
  });

  it("prepares a built-in that only a run-time require loads as it prepares imported ones (fs over /var/task, node:http's messages)", async () => {
    // The runtime evaluates Node built-ins only when the function loads them (a cold start
    // pays for what it uses); one reached by a computed require must come out the same.
    const { value } = await runOnce({
      "index.js": [
        "exports.handler = async () => {",
        "  const load = (...parts) => require(parts.join(''));",
        "  const http = load('ht', 'tp');",
        "  const res = new http.ServerResponse(new http.IncomingMessage());",
        "  return { file: load('f', 's').readFileSync('data.txt', 'utf8'), os: typeof load('o', 's').platform, statusMessage: res.statusMessage ?? null };",
        "};",
      ].join("\n"),
      "data.txt": "on disk",
    });
    expect(value).toEqual({ file: "on disk", os: "function", statusMessage: null });
  });

  it("accepts a native addon at upload and fails the invocation that loads it with Runtime.ImportModuleError naming it", async () => {
    const files = {
      "index.js": "exports.handler = async () => require('./build/Release/addon.node').hello();",
      "build/Release/addon.node": new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01]),
    };
    const { value, functionError } = await runOnce(files);
    expect(functionError).toBe("Unhandled");
    expect(value).toMatchObject({ errorType: "Runtime.ImportModuleError" });
    const message = (value as { errorMessage: string }).errorMessage;
    expect(message).toContain("/var/task/build/Release/addon.node");
    expect(message).toContain("native addons (.node files) are not supported");
  });

  it("reports an init that fails after a native addon did not load as Runtime.ImportModuleError naming the addon", async () => {
    const { value } = await runOnce({
      "index.js": [
        "let binding;",
        "try { binding = require('./native/fast.node'); } catch (e) { throw new Error('Could not load the \"fast\" module'); }",
        "exports.handler = async () => binding;",
      ].join("\n"),
      "native/fast.node": new Uint8Array([0x7f, 0x45, 0x4c, 0x46]),
    });
    expect(value).toMatchObject({ errorType: "Runtime.ImportModuleError" });
    expect((value as { errorMessage: string }).errorMessage).toContain("native addon '/var/task/native/fast.node'");
    expect((value as { errorMessage: string }).errorMessage).toContain('Could not load the "fast" module');
  });
});

describe("the preinstalled AWS SDK v3", () => {
  it("deploys and runs a zip that imports @aws-sdk/client-lambda without shipping it", async () => {
    const { value, functionError } = await runOnce({
      "index.mjs": [
        "import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';",
        "const client = new LambdaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } });",
        "export const handler = async () => ({ region: await client.config.region(), command: new ListFunctionsCommand({}).constructor.name });",
      ].join("\n"),
    });
    expect(functionError, JSON.stringify(value)).toBeUndefined();
    expect(value).toEqual({ region: "eu-west-1", command: "ListFunctionsCommand" });
  });

  it("gives require() of a preinstalled client the same module as import", async () => {
    const { value, functionError } = await runOnce({
      "index.js": [
        "const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');",
        "exports.handler = async () => { const esm = await import('@aws-sdk/client-lambda'); return [esm.LambdaClient === LambdaClient, new InvokeCommand({ FunctionName: 'x' }).input.FunctionName]; };",
      ].join("\n"),
    });
    expect(functionError, JSON.stringify(value)).toBeUndefined();
    expect(value).toEqual([true, "x"]);
  });

  it("lets a copy in the zip's node_modules win, and adds nothing to a function that does not import it", async () => {
    const shipped = {
      "index.js": "const { LambdaClient } = require('@aws-sdk/client-lambda');\nexports.handler = async () => LambdaClient.shipped;",
      "node_modules/@aws-sdk/client-lambda/package.json": '{"name":"@aws-sdk/client-lambda","main":"index.js"}',
      "node_modules/@aws-sdk/client-lambda/index.js": "exports.LambdaClient = { shipped: 'from the zip' };",
    };
    expect((await runOnce(shipped)).value).toBe("from the zip");
    const plain = await deploy({ "index.js": "exports.handler = async () => 1;" });
    const withSdk = await deploy({ "index.mjs": "import { LambdaClient } from '@aws-sdk/client-lambda';\nexport const handler = async () => typeof LambdaClient;" });
    expect(plain.length).toBeLessThan(20_000);
    expect(plain).not.toContain("LambdaClient");
    // The preinstalled copy is a module of the Dynamic Worker beside the bundle, not part of it.
    expect(withSdk).toContain('from "./platform-sdk/aws-sdk/client-lambda.js"');
    expect(withSdk.length).toBeLessThan(20_000);
  });
});

