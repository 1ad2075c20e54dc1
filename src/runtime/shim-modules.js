// @ts-check
/**
 * Node's module loading where the bundle cannot decide it at upload time
 * (src/code/bundler.ts): a global `require` for requires esbuild could not
 * resolve statically (`require(name)`), which esbuild's `__require` calls;
 * Node's MODULE_NOT_FOUND errors; the error of a native addon; and the cwd,
 * /var/task. The bundle imports this module first, so all of it is in place
 * before any of the function's code runs.
 */
// No Node built-in is imported here: each one costs its evaluation at every cold start
// (node:http, node:zlib, node:crypto, node:net ~5 ms each on a loaded machine), so
// they are taken with process.getBuiltinModule() when a run-time require asks.
import { absolute, loadedFs } from "./shim-files.js";

const TASK_ROOT = "/var/task";

/** The runtime's error type for a module that cannot be loaded (Lambda's RIC: ImportModuleError). */
export const IMPORT_MODULE_ERROR = "Runtime.ImportModuleError";

/** The last native addon the function tried to load: an init failure after it is reported as that. */
export let nativeAddonAttempted = /** @type {string | undefined} */ (undefined);

/** Node's error for `require(specifier)` from `importer` (a zip path) when nothing is there. */
export function moduleNotFound(specifier, importer) {
  const stack = importer === undefined ? [] : [TASK_ROOT + "/" + importer];
  const error = new Error("Cannot find module '" + specifier + "'" + (stack.length ? "\nRequire stack:\n- " + stack.join("\n- ") : ""));
  return Object.assign(error, { code: "MODULE_NOT_FOUND", requireStack: stack });
}

/** Node's error for `import(specifier)` from `importer` when nothing is there. */
export function esmNotFound(specifier, importer) {
  const from = TASK_ROOT + "/" + importer;
  const relative = /^\.{0,2}\//.test(specifier);
  const what = relative ? "module '" + absolute(from.slice(0, from.lastIndexOf("/")) + "/" + specifier) + "'" : "package '" + specifier + "'";
  return Object.assign(new Error("Cannot find " + what + " imported from " + from), { code: "ERR_MODULE_NOT_FOUND" });
}

/** The error of loading a `.node` file: named for the runtime, saying why. */
export function nativeAddon(path) {
  nativeAddonAttempted = path;
  const error = new Error(
    "Error: Cannot load native addon '" + path + "': native addons (.node files) are not supported by cellfn, " +
    "whose functions run in V8 isolates without a Node.js process; use a pure JavaScript or WebAssembly build of the package",
  );
  Object.defineProperty(error, "name", { value: IMPORT_MODULE_ERROR, writable: true, configurable: true });
  return Object.assign(error, { code: "ERR_DLOPEN_FAILED" });
}

/**
 * What the runtime adds to a built-in before the function gets it (the shim
 * registers them: node:http's messages, net's errors, util.debuglog), each run
 * once: when the bundle imports the built-in (the shim's init) or when a
 * run-time require() first loads it.
 * @type {Map<string, Array<() => void>>}
 */
const preparers = new Map();
/** @param {string[]} names @param {() => void} prepare */
export function onBuiltin(names, prepare) {
  let done = false;
  const once = () => { if (!done) { done = true; prepare(); } };
  for (const name of names) preparers.set(name, [...(preparers.get(name) ?? []), once]);
}
/** Runs what is registered for the built-in `name` (no "node:" prefix). */
export function prepareBuiltin(name) {
  for (const prepare of preparers.get(name) ?? []) prepare();
}

/**
 * A built-in as Node's require gives it (the module's CommonJS value, which
 * process.getBuiltinModule returns), or undefined. fs and fs/promises are the
 * runtime's own (shim-fs.js: /var/task and /tmp), loaded by the shim ahead of
 * the function's code whenever the bundle may require at run time.
 */
const builtin = (specifier) => {
  const name = specifier.replace(/^node:/, "");
  if (name === "fs" || name === "fs/promises") {
    if (loadedFs !== undefined) return name === "fs" ? loadedFs : loadedFs.promises;
  }
  let found;
  try { found = process.getBuiltinModule("node:" + name); } catch { found = undefined; }
  if (found !== undefined) prepareBuiltin(name);
  return found;
};

/**
 * `require(x)` that the bundler left to run time. Module paths of the zip
 * are not known here (the bundle has them inlined), so besides built-ins
 * this can only load JSON files on disk; anything else throws as Node does
 * when nothing is found.
 */
function dynamicRequire(specifier) {
  if (typeof specifier !== "string") throw new TypeError('The "id" argument must be of type string. Received ' + typeof specifier);
  const found = builtin(specifier);
  if (found !== undefined) return found;
  if (specifier.endsWith(".node")) throw nativeAddon(specifier);
  const path = absolute(specifier);
  if (/^\.{0,2}\//.test(specifier) && specifier.endsWith(".json") && loadedFs?.existsSync(path)) {
    return JSON.parse(String(loadedFs.readFileSync(path, "utf8")));
  }
  throw moduleNotFound(specifier, undefined);
}
dynamicRequire.resolve = (specifier) => {
  if (builtin(specifier) !== undefined) return specifier;
  const path = absolute(specifier);
  if (/^\.{0,2}\//.test(specifier) && loadedFs?.existsSync(path)) return path;
  throw moduleNotFound(specifier, undefined);
};
dynamicRequire.cache = Object.create(null);
dynamicRequire.main = undefined;

export default dynamicRequire;
Object.defineProperty(globalThis, "require", { value: dynamicRequire, writable: true, configurable: true });

// Node 22's navigator.userAgent. Libraries that detect Workers by it (pg, postgres) would
// otherwise take their Workers-only paths, which a Lambda function's zip does not ship.
try {
  Object.defineProperty(Reflect.get(globalThis, "navigator"), "userAgent", { value: "Node.js/22", configurable: true });
} catch {
  // A runtime without navigator: nothing to align.
}

// A TCP connection that cannot be made: workerd's sockets say "proxy request failed, cannot
// connect to the specified address"; Node says ECONNREFUSED, and drivers (pg, mysql2, ioredis)
// and their users test the code. The error keeps its message's cause in `cause`. Applied
// when node:net (or tls) is loaded, by the bundle or a run-time require.
onBuiltin(["net", "tls"], () => {
  const net = process.getBuiltinModule("node:net");
  const emit = /** @type {(this: unknown, event: string | symbol, ...args: unknown[]) => boolean} */ (net.Socket.prototype.emit);
  net.Socket.prototype.emit = /** @type {(event: string | symbol, ...args: any[]) => boolean} */ (function (event, ...args) {
    const error = args[0];
    if (event === "error" && error instanceof Error && /cannot connect to the specified address/.test(error.message) && !("code" in error)) {
      const self = /** @type {{ remoteAddress?: string, remotePort?: number, _host?: string, _port?: number }} */ (/** @type {unknown} */ (this));
      const address = self.remoteAddress ?? self._host;
      const port = self.remotePort ?? self._port;
      const where = address === undefined ? "" : " " + address + (port === undefined ? "" : ":" + port);
      const refused = Object.assign(new Error("connect ECONNREFUSED" + where, { cause: error }), { errno: -111, code: "ECONNREFUSED", syscall: "connect", address, port });
      return emit.call(this, event, refused, ...args.slice(1));
    }
    return emit.call(this, event, ...args);
  });
});

// Lambda starts the runtime in LAMBDA_TASK_ROOT; there is no other directory to change to.
process.cwd = () => TASK_ROOT;
process.chdir = (directory) => {
  if (absolute(directory) !== TASK_ROOT) throw Object.assign(new Error("process.chdir() is not supported in workers"), { code: "ERR_WORKER_UNSUPPORTED_OPERATION" });
};
