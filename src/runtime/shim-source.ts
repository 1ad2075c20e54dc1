/**
 * Source of the main module every Dynamic Worker of a function runs. The
 * function's bundle (src/code/bundler.ts) sits next to it as `handler.js`.
 *
 * Kept as a string because it is not part of this Worker: it is shipped to
 * the Worker Loader as module text (src/runtime/executor.ts). It is plain
 * JavaScript, so keep it small and obvious.
 *
 * RPC surface (WorkerEntrypoint):
 *   probe(handler) → { ok: true }
 *                  | { ok: false, errorType, errorMessage }
 * errorType is one the Lambda Node.js runtime uses: "Runtime.HandlerNotFound",
 * "Runtime.ImportModuleError", "Runtime.UserCodeSyntaxError", or, for any
 * other error thrown while the module initialised, the error's own name
 * ("Error", "TypeError", ...), as the runtime reports init errors.
 */
export const SHIM_SOURCE = String.raw`
import { WorkerEntrypoint } from "cloudflare:workers";

// Must match COMMONJS_MARKER in src/code/bundler.ts: the bundle exports it
// when the handler module is CommonJS, whose module.exports esbuild exposes
// as the bundle's default export.
const COMMONJS_MARKER = "__cellfnCommonJS";

// The user's module is imported lazily, on first use, rather than statically:
// its top-level code then runs inside a request (so it may do I/O) and an
// exception there becomes a Lambda-shaped error instead of a failed Worker.
let loading;
function loadHandlerModule() {
  loading ??= import("./handler.js");
  return loading;
}

// Lambda's classification of errors thrown while loading the module.
function initError(error) {
  const name = error instanceof Error ? error.name : "Error";
  const message = error instanceof Error ? error.message : String(error);
  if (/^No such module /.test(message)) {
    return { ok: false, errorType: "Runtime.ImportModuleError", errorMessage: name + ": " + message };
  }
  if (error instanceof SyntaxError) {
    return { ok: false, errorType: "Runtime.UserCodeSyntaxError", errorMessage: name + ": " + message };
  }
  return { ok: false, errorType: name, errorMessage: message };
}

// "src/app.handlers.main" → ["handlers", "main"]: the base name after its
// first dot, split on dots (UserFunction.js in the runtime interface client).
function propertyPath(handler) {
  const base = handler.slice(handler.lastIndexOf("/") + 1);
  return base.slice(base.indexOf(".") + 1).split(".");
}

// The handler function, or a Runtime.HandlerNotFound result.
async function resolveHandler(handler) {
  let namespace;
  try {
    namespace = await loadHandlerModule();
  } catch (error) {
    return { error: initError(error) };
  }
  // A CommonJS module is its module.exports; an ES module is its namespace.
  let value = namespace[COMMONJS_MARKER] === true ? namespace.default : namespace;
  for (const key of propertyPath(handler)) value = value ? value[key] : undefined;
  if (!value) {
    return { error: { ok: false, errorType: "Runtime.HandlerNotFound", errorMessage: handler + " is undefined or not exported" } };
  }
  if (typeof value !== "function") {
    return { error: { ok: false, errorType: "Runtime.HandlerNotFound", errorMessage: handler + " is not a function" } };
  }
  return { fn: value };
}

export default class extends WorkerEntrypoint {
  // Loads the module and checks the handler exists, without calling it.
  async probe(handler) {
    const { error } = await resolveHandler(handler);
    return error ?? { ok: true };
  }
}
`;
