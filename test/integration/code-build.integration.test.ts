import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { buildFunctionCode, decodeZipFile } from "../../src/code/build";
import { assertZippedSize, MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES, unzipCode } from "../../src/code/zip";
import { LambdaError } from "../../src/errors";
import { probeHandler, RUNTIME_MODULES } from "../../src/runtime/worker-code";
import { makeZip, makeZipBase64, toBase64 } from "../fixtures/zips";

type Files = Record<string, string>;

const build = (files: Files, handler = "index.handler") =>
  buildFunctionCode(env.LOADER, makeZipBase64(files), handler);

/** The LambdaError a build fails with (fails the test if it succeeds). */
async function buildError(files: Files | string, handler = "index.handler"): Promise<LambdaError> {
  const zipBase64 = typeof files === "string" ? files : makeZipBase64(files);
  try {
    await buildFunctionCode(env.LOADER, zipBase64, handler);
  } catch (error) {
    if (error instanceof LambdaError) return error;
    throw error;
  }
  throw new Error("expected the build to fail");
}

/**
 * Test-only runner: loads a bundle and calls the handler, to check the bundle
 * really works. The bundle's __cellfnLoad() runs the module code (inside this
 * request) and resolves to the handler module; for CommonJS its default is module.exports.
 */
interface Runner extends Rpc.WorkerEntrypointBranded {
  run(path: string[], event: unknown): Promise<unknown>;
  /** Evaluates the bundle without calling __cellfnLoad; returns what the function's code left on globalThis.ran. */
  evaluateOnly(): Promise<unknown>;
}
const RUNNER = `
import { WorkerEntrypoint } from "cloudflare:workers";
export default class extends WorkerEntrypoint {
  async evaluateOnly() {
    const bundle = await import("./handler.js");
    return { ran: globalThis.ran ?? null, exports: Object.keys(bundle).sort() };
  }
  async run(path, event) {
    const bundle = await import("./handler.js");
    const ns = await bundle.__cellfnLoad();
    let value = bundle.__cellfnCommonJS === true ? ns.default : ns;
    for (const key of path) value = value[key];
    return await value(event);
  }
}`;
function runner(bundle: string) {
  const worker = env.LOADER.load({
    compatibilityDate: "2026-11-01",
    compatibilityFlags: ["nodejs_compat"],
    mainModule: "runner.js",
    modules: { ...RUNTIME_MODULES, "runner.js": RUNNER, "handler.js": bundle },
    globalOutbound: null,
  });
  return worker.getEntrypoint<Runner>();
}
const run = (bundle: string, path: string[] = ["handler"], event: unknown = {}): Promise<unknown> => runner(bundle).run(path, event);

async function sha256Base64(bytes: Uint8Array): Promise<string> {
  return toBase64(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

describe("buildFunctionCode: handlers that build", () => {
  it("bundles a CommonJS exports.handler and reports CodeSha256 and CodeSize of the zip", async () => {
    const files = { "index.js": "exports.handler = async (event) => ({ echo: event.value });" };
    const zip = makeZip(files);
    const built = await buildFunctionCode(env.LOADER, toBase64(zip), "index.handler");
    expect(built.codeSize).toBe(zip.byteLength);
    expect(built.codeSha256).toBe(await sha256Base64(zip));
    expect(built.codeSha256).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(await run(built.bundle, ["handler"], { value: 42 })).toEqual({ echo: 42 });
  });

  it("is deterministic: the same zip gives the identical bundle", async () => {
    const files = { "index.js": "const lib = require('./lib');\nexports.handler = () => lib.x;", "lib.js": "exports.x = 1;" };
    const [first, second] = [await build(files), await build(files)];
    expect(second.bundle).toBe(first.bundle);
    expect(second.codeSha256).toBe(first.codeSha256);
  });

  it("bundles an ES module handler (.mjs)", async () => {
    const built = await build({ "index.mjs": "export const handler = async () => 'from mjs';" });
    expect(built.bundle).not.toContain("__cellfnCommonJS");
    expect(await run(built.bundle)).toBe("from mjs");
  });

  it("bundles a .js ES module under package.json type: module", async () => {
    const built = await build({
      "package.json": '{"type":"module"}',
      "index.js": "import { greet } from './greet.js';\nexport const handler = async (e) => greet(e.name);",
      "greet.js": "export const greet = (name) => `hi ${name}`;",
    });
    expect(await run(built.bundle, ["handler"], { name: "ada" })).toBe("hi ada");
  });

  it("finds a handler in a subfolder, probing extensions and index files for relative imports", async () => {
    const built = await build(
      {
        "src/app.js": "const u = require('./lib/util');\nconst s = require('../shared');\nexports.handler = () => u.name + s.name;",
        "src/lib/util.js": "exports.name = 'util+';",
        "shared/index.js": "exports.name = 'shared';",
      },
      "src/app.handler",
    );
    expect(await run(built.bundle)).toBe("util+shared");
  });

  it("walks a nested export path (index.handlers.main)", async () => {
    const built = await build({ "index.js": "exports.handlers = { main: () => 'nested' };" }, "index.handlers.main");
    expect(await run(built.bundle, ["handlers", "main"])).toBe("nested");
  });

  it("resolves dependencies from node_modules: package.json main, and exports with require/import conditions", async () => {
    const built = await build({
      "lib/index.js": "const a = require('dep-main');\nconst b = require('dep-exports');\nconst c = require('dep-exports/feature');\nexports.handler = () => [a, b, c];",
      "node_modules/dep-main/package.json": '{"name":"dep-main","main":"./dist/entry.js"}',
      "node_modules/dep-main/dist/entry.js": "module.exports = 'main-field';",
      "node_modules/dep-exports/package.json": JSON.stringify({
        name: "dep-exports",
        main: "./wrong.js",
        exports: {
          ".": { import: "./esm.mjs", require: "./cjs.js" },
          "./feature": { node: "./feature-node.js", default: "./feature-default.js" },
        },
      }),
      "node_modules/dep-exports/cjs.js": "module.exports = 'exports-require';",
      "node_modules/dep-exports/esm.mjs": "export default 'exports-import';",
      "node_modules/dep-exports/wrong.js": "module.exports = 'wrong';",
      "node_modules/dep-exports/feature-node.js": "module.exports = 'feature-node';",
      "node_modules/dep-exports/feature-default.js": "module.exports = 'feature-default';",
    }, "lib/index.handler");
    // lib/ has no node_modules: Node walks up to the root's.
    expect(await run(built.bundle)).toEqual(["main-field", "exports-require", "feature-node"]);
  });

  it("uses the import condition for ES module importers", async () => {
    const built = await build({
      "index.mjs": "import value from 'dual';\nexport const handler = () => value;",
      "node_modules/dual/package.json": '{"name":"dual","exports":{"import":"./esm.mjs","require":"./cjs.js"}}',
      "node_modules/dual/esm.mjs": "export default 'esm-build';",
      "node_modules/dual/cjs.js": "module.exports = 'cjs-build';",
    });
    expect(await run(built.bundle)).toBe("esm-build");
  });

  it("makes require() of Node built-ins work at run time (crypto, node:buffer, events)", async () => {
    const built = await build({
      "index.js": [
        "const crypto = require('crypto');",
        "const { Buffer } = require('node:buffer');",
        "const EventEmitter = require('events');",
        "exports.handler = async () => {",
        "  const emitter = new EventEmitter();",
        "  let heard = '';",
        "  emitter.on('x', (v) => { heard = v; });",
        "  emitter.emit('x', 'event');",
        "  return [crypto.createHash('sha256').update('abc').digest('hex'), Buffer.from('hi').toString('base64'), heard];",
        "};",
      ].join("\n"),
    });
    expect(built.bundle).toContain('from "node:crypto"');
    // esbuild's throwing shim for require() of an external module must not appear.
    expect(built.bundle).not.toContain("Dynamic require of");
    expect(await run(built.bundle)).toEqual([
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      "aGk=",
      "event",
    ]);
  });

  it("keeps ES imports of built-ins working, with and without node:", async () => {
    const built = await build({
      "index.mjs": "import path from 'path';\nimport { join } from 'node:path';\nimport process from 'process';\nexport const handler = () => [path.join('a', 'b'), join('c', 'd'), typeof process.env];",
    });
    expect(await run(built.bundle)).toEqual(["a/b", "c/d", "object"]);
  });

  it("bundles require() of JSON files", async () => {
    const built = await build({
      "index.js": "const config = require('./config.json');\nconst pkg = require('./package');\nexports.handler = () => [config.region, pkg.version];",
      "config.json": '{"region":"eu-west-1"}',
      "package.json": '{"name":"fn","version":"1.2.3"}',
    });
    expect(await run(built.bundle)).toEqual(["eu-west-1", "1.2.3"]);
  });

  it("emits a bundle whose evaluation runs none of the function's code (workerd's global scope forbids random values, timers, I/O)", async () => {
    const built = await build({
      "index.js": "globalThis.ran = (globalThis.ran ?? []).concat('index');\nconst lib = require('./lib');\nconst id = crypto.randomUUID();\nexports.handler = () => [id.length, lib, globalThis.ran];",
      "lib.mjs": "globalThis.ran = (globalThis.ran ?? []).concat('lib');\nexport const timer = setTimeout(() => {}, 1) !== undefined;",
    });
    expect(await runner(built.bundle).evaluateOnly()).toEqual({ ran: null, exports: ["__cellfnCommonJS", "__cellfnLoad", "__cellfnNeeds"] });
    expect(await run(built.bundle)).toEqual([36, { timer: true }, ["index", "lib"]]);
  });

  it("tells the runtime which Node built-ins the bundle imports and whether it requires at run time (the rest stay unevaluated)", async () => {
    const needs = async (files: Files) => {
      const bundle = (await build(files)).bundle;
      const exported = /^export const __cellfnNeeds = (.*);$/m.exec(bundle)?.[1];
      return exported === undefined ? undefined : (JSON.parse(exported) as unknown);
    };
    expect(await needs({ "index.js": "exports.handler = async () => 1;" })).toEqual({ builtins: [], require: false });
    expect(
      await needs({
        "index.mjs": "import { createHash } from 'node:crypto';\nimport zlib from 'zlib';\nimport { x } from './lib.cjs';\nexport const handler = () => [createHash, zlib, x];",
        "lib.cjs": "const http = require('http');\nexports.x = http.STATUS_CODES[200];",
      }),
    ).toEqual({ builtins: ["crypto", "http", "zlib"], require: false });
    expect(await needs({ "index.js": "exports.handler = async (event) => require(event.name);" })).toEqual({ builtins: [], require: true });
  });

  it("supports top-level await in an ES module handler and in the modules it imports", async () => {
    const built = await build({
      "index.mjs":
        "import { secret } from './secret.mjs';\nconst digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret));\n" +
        "export const handler = async () => [secret, new Uint8Array(digest).length];",
      "secret.mjs": "export const secret = await new Promise((r) => setTimeout(() => r('s3cr3t'), 5));",
    });
    expect(built.bundle).not.toContain("__cellfnCommonJS");
    expect(await run(built.bundle)).toEqual(["s3cr3t", 32]);
  });

  it("walks module.exports of a CommonJS module flagged __esModule (TypeScript output), as Node does", async () => {
    const built = await build({
      "index.js":
        'Object.defineProperty(exports, "__esModule", { value: true });\nexports.default = { handler: () => "default" };\nexports.handler = async () => "module.exports";',
    });
    expect(await run(built.bundle)).toBe("module.exports");
  });

  it("probes modules whose top-level code generates random values: the handler export is really checked", async () => {
    const files = { "index.js": "const id = require('crypto').randomUUID();\nexports.other = () => id;" };
    const error = await buildError(files);
    expect(error.message).toContain("Runtime.HandlerNotFound: index.handler is undefined or not exported");
    const built = await build({ ...files, "index.js": `${files["index.js"]}\nexports.handler = exports.other;` });
    expect(await run(built.bundle)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("accepts a module whose top-level code throws (it may need env vars the probe lacks)", async () => {
    const built = await build({
      "index.js": "const config = JSON.parse(process.env.CONFIG);\nexports.handler = () => config;",
    });
    expect(built.bundle).toContain("process.env.CONFIG");
  });
});

describe("buildFunctionCode: uploads it refuses", () => {
  it("refuses a corrupt zip", async () => {
    const error = await buildError(toBase64(new TextEncoder().encode("this is not a zip file at all")));
    expect(error.type).toBe("InvalidParameterValueException");
    expect(error.message).toBe("Could not unzip uploaded file. Please check your file, then try to upload again.");
  });

  it("refuses a zip without the handler's module, naming what it looked for", async () => {
    const error = await buildError({ "main.js": "exports.handler = () => 1;" });
    expect(error.type).toBe("InvalidParameterValueException");
    expect(error.message).toBe(
      "Cannot find module 'index' for handler 'index.handler': the zip has no index.js, index.mjs or index.cjs at its root",
    );
  });

  it("says so when the zip holds the folder instead of its contents", async () => {
    const error = await buildError({ "my-fn/index.js": "exports.handler = () => 1;" });
    expect(error.message).toContain("It does have 'my-fn/index.js'");
    expect(error.message).toContain("set the handler to 'my-fn/index.handler'");
  });

  it("refuses a module that does not export the handler", async () => {
    const error = await buildError({ "index.js": "exports.other = () => 1;" });
    expect(error.type).toBe("InvalidParameterValueException");
    expect(error.message).toContain("Runtime.HandlerNotFound: index.handler is undefined or not exported");
  });

  it("does not fall back to an ES module's default export (Lambda does not either)", async () => {
    const error = await buildError({ "index.mjs": "export default { handler: () => 1 };" });
    expect(error.message).toContain("index.handler is undefined or not exported");
  });

  it("refuses an export that is not a function", async () => {
    const error = await buildError({ "index.js": "exports.handler = { not: 'a function' };" });
    expect(error.message).toContain("Runtime.HandlerNotFound: index.handler is not a function");
  });

  it("refuses a syntax error, with esbuild's message and file:line", async () => {
    const error = await buildError({
      "index.js": "const ok = require('./lib');\nexports.handler = ok;",
      "lib.js": "module.exports = () => {\n  return 1 +;\n};",
    });
    expect(error.type).toBe("InvalidParameterValueException");
    expect(error.message).toMatch(/^Could not bundle the handler module 'index.js': lib\.js:2:\d+: Unexpected ";"/);
  });

  it("refuses require() of an ES module that uses top-level await (Node's ERR_REQUIRE_ASYNC_MODULE), saying where", async () => {
    const error = await buildError({
      "index.js": "// loads the settings\nconst { settings } = require('./lib/settings.mjs');\nexports.handler = () => settings;",
      "lib/settings.mjs": "import { value } from './remote.mjs';\nexport const settings = { value };",
      "lib/remote.mjs": "export const value = await Promise.resolve(1);",
    });
    expect(error.type).toBe("InvalidParameterValueException");
    expect(error.message).toMatch(
      /^Could not bundle the handler module 'index\.js': index\.js:2:29: require\("\.\/lib\/settings\.mjs"\) loads lib\/settings\.mjs, an ES module that uses top-level await/,
    );
    expect(error.message).toContain("ERR_REQUIRE_ASYNC_MODULE");
    expect(error.message).toContain("cache a promise in a module variable and await it in the handler");
    // import() of the same module is fine.
    const built = await build({
      "index.js": "exports.handler = async () => (await import('./lib/settings.mjs')).settings;",
      "lib/settings.mjs": "export const settings = { value: await Promise.resolve(1) };",
    });
    expect(await run(built.bundle)).toEqual({ value: 1 });
  });

  it("refuses a static import that cannot be resolved, saying where", async () => {
    const error = await buildError({ "index.mjs": "import pad from 'left-pad';\nexport const handler = () => pad('x', 3);" });
    expect(error.message).toContain('index.mjs:1:16: Could not resolve "left-pad"');
    expect(error.message).toContain("node_modules");
  });

  it("accepts a require() that finds nothing: Node fails it only when it runs (test/integration/runtime-code)", async () => {
    const built = await build({ "index.js": "const pad = require('left-pad');\nexports.handler = () => pad('x', 3);" });
    expect(built.bundle).toContain('moduleNotFound("left-pad", "index.js")');
  });

  it("explains which AWS SDK packages are preinstalled when one is not", async () => {
    const error = await buildError({ "index.mjs": "import { NopeClient } from '@aws-sdk/client-not-a-service';\nexport const handler = () => NopeClient;" });
    expect(error.message).toContain("cellfn preinstalls these AWS SDK v3 packages: @aws-sdk/client-lambda");
  });

  it("refuses a package subpath its exports do not allow", async () => {
    const error = await buildError({
      "index.js": "exports.handler = require('pkg/internal');",
      "node_modules/pkg/package.json": '{"name":"pkg","exports":{".":"./index.js"}}',
      "node_modules/pkg/index.js": "",
      "node_modules/pkg/internal.js": "",
    });
    expect(error.message).toContain("'./internal' is not defined by \"exports\"");
  });

  it("refuses a malformed handler, naming it", async () => {
    const files = { "index.js": "exports.handler = () => 1;" };
    const noDot = await buildError(files, "index");
    expect(noDot.type).toBe("InvalidParameterValueException");
    expect(noDot.message).toContain("The handler 'index' is not valid (Bad handler)");
    const climbing = await buildError(files, "../index.handler");
    expect(climbing.message).toContain("'../index.handler' is not a valid handler name");
  });

  it("refuses ZipFile that is not base64", async () => {
    for (const bad of ["not base64!", "abc", "ab=c"]) {
      const error = await buildError(bad);
      expect(error.type).toBe("InvalidParameterValueException");
      expect(error.message).toContain("not valid base64");
    }
  });

  it("refuses more than 50 MB zipped with RequestTooLargeException, before decoding", async () => {
    // Base64 for exactly MAX_ZIPPED_BYTES + 1 bytes (52428801 is a multiple of 3).
    const error = await buildError("A".repeat(((MAX_ZIPPED_BYTES + 1) / 3) * 4));
    expect(error.status).toBe(413);
    expect(error.type).toBe("RequestTooLargeException");
    expect(error.message).toBe("Zipped size must be smaller than 52428800 bytes");
    // One byte less is within the limit (it then fails as a non-zip).
    expect(decodeZipFile(`${"A".repeat(((MAX_ZIPPED_BYTES + 1) / 3) * 4 - 4)}AA==`).byteLength).toBe(MAX_ZIPPED_BYTES - 1);
    expect(() => assertZippedSize(MAX_ZIPPED_BYTES)).not.toThrow();
    expect(() => assertZippedSize(MAX_ZIPPED_BYTES + 1)).toThrow(LambdaError);
  });
});

describe("unzipCode", () => {
  it("skips directory entries and normalises paths", () => {
    const zip = makeZip({ "lib/": "", "./lib/a.js": "a", "lib//b.js": "b", "lib/x/../c.js": "c" });
    expect([...unzipCode(zip).keys()].sort()).toEqual(["lib/a.js", "lib/b.js", "lib/c.js"]);
  });

  it("refuses entries outside the root", () => {
    for (const name of ["../evil.js", "lib/../../evil.js", "/etc/passwd", "C:/evil.js"]) {
      expect(() => unzipCode(makeZip({ [name]: "x" })), name).toThrow(/outside the function's root|absolute path/);
    }
  });

  it("refuses a symbolic link entry (zip -y) with InvalidParameterValueException, naming it", () => {
    const zip = makeZip({ "index.js": "exports.handler = () => 1;", "config.json": "/etc/passwd" });
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    let central = zip.byteLength - 22;
    while (view.getUint32(central, true) !== 0x06054b50) central--;
    let entry = view.getUint32(central + 16, true);
    // The second entry (config.json): made by Unix, mode lrwxrwxrwx, as `zip -y` writes a link.
    entry += 46 + view.getUint16(entry + 28, true) + view.getUint16(entry + 30, true) + view.getUint16(entry + 32, true);
    view.setUint8(entry + 5, 3);
    view.setUint32(entry + 38, (0o120777 << 16) >>> 0, true);
    expect(() => unzipCode(zip)).toThrow("The zip entry 'config.json' is a symbolic link");
    try {
      unzipCode(zip);
    } catch (error) {
      expect(error).toBeInstanceOf(LambdaError);
      expect((error as LambdaError).type).toBe("InvalidParameterValueException");
    }
  });

  it("refuses a zip whose declared unzipped size is over the limit, before inflating it", () => {
    const zip = makeZip({ "index.js": "exports.handler = () => 1;" });
    // Patch the central directory's uncompressed-size field (offset 24) to ~4 GB.
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    let central = zip.byteLength - 22;
    while (view.getUint32(central, true) !== 0x02014b50) central--;
    view.setUint32(central + 24, 0xfffffff0, true);
    expect(() => unzipCode(zip)).toThrow(`Unzipped size must be smaller than ${MAX_UNZIPPED_BYTES} bytes`);
  });
});

describe("probeHandler", () => {
  it("reports a module that imports a built-in the runtime lacks as Runtime.ImportModuleError", async () => {
    const result = await probeHandler(env.LOADER, 'import "node:no-such-module";\nexport const handler = () => 1;', "index.handler");
    expect(result).toMatchObject({ ok: false, errorType: "Runtime.ImportModuleError" });
  });

  it("reports a bundle that does not parse as Runtime.UserCodeSyntaxError, without throwing", async () => {
    const result = await probeHandler(env.LOADER, "export const handler = ;", "index.handler");
    expect(result).toMatchObject({ ok: false, errorType: "Runtime.UserCodeSyntaxError" });
  });

  it("runs the module code of a bundle inside the probe request and reports what it throws, after a top-level await too", async () => {
    const built = await build({ "index.mjs": "await new Promise((r) => setTimeout(r, 1));\nthrow new RangeError(crypto.randomUUID().length + ' chars');\nexport const handler = () => 1;" });
    expect(await probeHandler(env.LOADER, built.bundle, "index.handler")).toEqual({ ok: false, errorType: "RangeError", errorMessage: "36 chars" });
  });

  it("reports an error thrown by top-level code with its own name", async () => {
    const result = await probeHandler(env.LOADER, "throw new TypeError('boom');", "index.handler");
    expect(result).toEqual({ ok: false, errorType: "TypeError", errorMessage: "boom" });
  });
});
