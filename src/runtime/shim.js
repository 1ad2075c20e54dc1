// @ts-check
/**
 * Source of the main module every Dynamic Worker of a function runs: a small
 * Lambda Node.js runtime. The function's bundle (src/code/bundler.ts) sits
 * next to it as `handler.js`, and the names both must agree on as
 * `markers.js` (src/runtime/markers.ts). wrangler.toml's Text rule ships this
 * file to the Worker Loader as module text (src/runtime/worker-code.ts); it is
 * checked JavaScript (`npm run typecheck`, tsconfig.shim.json).
 *
 * It follows the Lambda runtime interface client (RIC): the callback
 * runtime of nodejs20.x/22.x (src/Runtime.js, CallbackContext.js) and the
 * promise-only one of nodejs24.x (src/runtime/*, context-builder.ts).
 *
 * RPC surface (WorkerEntrypoint; one invocation at a time per isolate):
 *   probe(handler)          → { ok: true } | { ok: false, errorType, errorMessage }  (runs the module code)
 *   invoke(request, settings, initDone?)
 *                           → { payload, failed, lines, crashed } | { uninitialised: true } | { crashedBefore: true }
 *                           (a new isolate first runs the init phase with settings = { runtime, handler },
 *                           then calls initDone({ lines, error? }); without initDone (the executor
 *                           expected a warm isolate) it answers { uninitialised: true } instead)
 *   init(request, settings) → { lines, error? } | { already: true } | { crashed: true }
 *                           (provisioned concurrency: the init phase alone, ahead of traffic)
 *   takeLogs(requestId)     → lines so far (after the executor gave up waiting)
 *   retire()                → never answers: the isolate aborts itself, so the Worker Loader
 *                           forgets it (the environment was retired; src/runtime/unload.ts)
 * errorType values are the runtime's: "Runtime.HandlerNotFound",
 * "Runtime.ImportModuleError", "Runtime.UserCodeSyntaxError",
 * "Runtime.CallbackHandlerDeprecated", or a user error's own name.
 */
import * as workers from "cloudflare:workers";
import { WorkerEntrypoint } from "cloudflare:workers";
import { AsyncLocalStorage } from "node:async_hooks";
import { COMMONJS_MARKER, INVOCATION_HEADER, LOAD_EXPORT, NEEDS_EXPORT } from "./markers.js";
import { setTmpQuota } from "./shim-files.js";
import { IMPORT_MODULE_ERROR, nativeAddonAttempted, onBuiltin, prepareBuiltin } from "./shim-modules.js";
import { captureRawStreams, consoleLine, levelEnabled, quietDebuglog } from "./shim-logs.js";
import { installAwslambdaGlobal, isStreamingHandler, responseChannel, runStreaming } from "./shim-streaming.js";
import { installTimers } from "./shim-timers.js";
import { installHttp } from "./shim-http.js";
import { applyInvocationVariables, exitMessage, interceptExit, ProcessExit } from "./shim-process.js";
import { callbackRunner, errorPayload, explainCodeGeneration, MAX_RESPONSE_BYTES, propertyPath, runPromise, runtimeError, serialize, tooLarge } from "./shim-results.js";

const MAX_LOG_CHARS = 1000000;
const CALLBACK_REMOVED =
  "ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. You need to modify this function to use a supported handler signature to use Node.js 24 or later. For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.";
const CALLBACK_WARNING =
  "AWS Lambda plans to remove support for callback-based function handlers starting with Node.js 24. You will need to update this function to use an async handler to use Node.js 24 or later. For more information and to provide feedback on this change, see https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/issues/137. To disable this warning, set the AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING environment variable.";

// ---- Logs: console.* in the function's log format, process.stdout/stderr raw
// (shim-logs.js). Lines go to the current sink: the init lines, then each
// invocation's. The request id is "undefined" during init, as the runtime prints it.
let sink = [];
let sinkChars = 0;
let requestId;
function useSink(lines) { raw.flush(); sink = lines; sinkChars = 0; }
function write(level, args) {
  if (levelEnabled(level)) push(consoleLine(level, requestId, args));
}
const raw = captureRawStreams(push);
function push(line) {
  sink.push(line);
  sinkChars += line.length;
  // A runaway logger must not exhaust memory; the newest lines matter most (the Tail).
  if (sinkChars > MAX_LOG_CHARS) sinkChars -= sink.splice(0, sink.length >> 1).reduce((n, l) => n + l.length, 0);
}
const LEVELS = { trace: "TRACE", debug: "DEBUG", info: "INFO", log: "INFO", warn: "WARN", error: "ERROR", fatal: "FATAL" };
for (const [method, level] of Object.entries(LEVELS)) console[method] = (...args) => write(level, args);
// Node's global console keeps its streams as _stdout/_stderr; winston's Console transport writes its lines there, raw.
// Read when used, not at isolate start (see captureRawStreams).
for (const [key, name] of /** @type {const} */ ([["_stdout", "stdout"], ["_stderr", "stderr"]])) {
  let replaced;
  Object.defineProperty(console, key, {
    get: () => replaced ?? process[name],
    set: (value) => { replaced = value; },
    configurable: true,
    enumerable: false,
  });
}

// ---- awslambda.streamifyResponse / HttpResponseStream (shim-streaming.js), there before the module loads.
installAwslambdaGlobal();
// ---- What the runtime changes in Node built-ins, applied when the function loads them
// (prepare() below, or a run-time require), not at isolate start: evaluating node:http,
// node:net or node:util is a cold-start cost the function pays only if it uses them.
// node:http messages with the sockets the Lambda HTTP adapters give them (shim-http.js);
// util.debuglog silent unless NODE_DEBUG says otherwise (shim-logs.js).
onBuiltin(["http", "https"], installHttp);
onBuiltin(["util"], () => quietDebuglog());

// ---- Pending work, for callbackWaitsForEmptyEventLoop: Node waits for an
// empty event loop; here that is approximated by timers and fetches in flight.
const platform = { setTimeout, clearTimeout, setInterval, clearInterval, fetch: globalThis.fetch.bind(globalThis) };
let fetchesInFlight = 0;
let idleWaiters = [];
const isIdle = () => timers.pending === 0 && fetchesInFlight === 0;
function workDone() {
  if (isIdle()) for (const check of idleWaiters.splice(0)) platform.setTimeout(check, 0);
}
function emptyEventLoop() {
  return /** @type {Promise<void>} */ (new Promise((resolve) => {
    const check = () => (isIdle() ? resolve() : idleWaiters.push(check));
    platform.setTimeout(check, 0); // after the current turn's microtasks
  }));
}
// Timers frozen with the environment and thawed in its next invocation (shim-timers.js).
const timers = installTimers(platform, (fn, args) => guarded(fn, args), workDone);

// ---- Egress: every fetch() carries the invocation's token for the egress
// gateway (node:http uses fetch() too). The unwrapped fetch stays in this
// closure. User code never chooses the header: it would claim another lineage.
const invocationStore = new AsyncLocalStorage();
let activeToken;
globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  const token = invocationStore.getStore()?.token ?? activeToken;
  request.headers.delete(INVOCATION_HEADER);
  if (token) request.headers.set(INVOCATION_HEADER, token);
  fetchesInFlight++;
  try {
    return await platform.fetch(request);
  } finally {
    fetchesInFlight--;
    workDone();
  }
};

// structuredConsole.logError: console.error(label, "\t" + JSON of the error with its enumerable properties).
function logError(label, value) {
  const error = value instanceof Error ? value : new Error(value);
  const enumerable = (_key, v) => {
    if (!(v instanceof Error)) return v;
    /** @type {Record<string, unknown>} */
    const out = Object.assign({ errorType: v.name, errorMessage: v.message, code: /** @type {{ code?: unknown }} */ (v).code }, { ...v });
    if (typeof v.stack === "string") out.stack = v.stack.split("\n");
    return out;
  };
  let text;
  try { text = JSON.stringify(error, enumerable); } catch { text = JSON.stringify(errorPayload(error)); }
  console.error(label, "\t" + text);
}

// ---- Crashes. In Lambda an uncaught exception or an unhandled rejection ends
// the runtime process: the running invocation fails with that error (logged
// once, not as "Invoke Error") and the environment is not used again.
let crashInvocation; // resolves the running invocation's outcome
let crashed = false;
function uncaught(label, thrown) {
  const error = explainCodeGeneration(thrown);
  logError(label, error);
  crashed = true;
  crashInvocation?.({ error, logged: true });
}
function guarded(fn, args) {
  try { if (typeof fn === "function") fn(...args); } catch (error) { uncaught("Uncaught Exception", error); }
}
// process.exit(n): the runtime process ends; the invocation fails with Runtime.ExitError.
interceptExit((status) => {
  crashed = true;
  crashInvocation?.({ exited: status });
});
globalThis.addEventListener("unhandledrejection", (event) => {
  let reason;
  try { reason = String(event.reason); } catch { reason = typeof event.reason; }
  const error = Object.assign(runtimeError("Runtime.UnhandledPromiseRejection", reason), { reason: event.reason, promise: event.promise });
  uncaught("Unhandled Promise Rejection", error);
});

// ---- Loading the handler: Lambda's init phase. Evaluating handler.js runs
// none of the function's code (workerd evaluates modules in global scope,
// where random values, timers and I/O are disallowed): it exports
// __cellfnLoad(), which runs the module code and resolves to the handler
// module (src/code/bundler.ts). Both happen inside a request (the first
// invoke(), or probe()), once per isolate; what the module code throws
// becomes a Lambda init error.
// Bundles built before __cellfnLoad existed are the handler module itself.
let loading;
// @ts-expect-error: the function's bundle, a module the executor supplies next to this one.
const loadHandlerModule = () => (loading ??= import("./handler.js").then(async (bundle) => {
  await prepare(bundle[NEEDS_EXPORT]);
  const module = typeof bundle[LOAD_EXPORT] === "function" ? await bundle[LOAD_EXPORT]() : bundle;
  return bundle[COMMONJS_MARKER] === true ? module.default : module; // what the property path starts from
}));

/**
 * Before the function's code runs: what the runtime changes in the built-ins
 * the bundle imports, and the runtime's fs (shim-fs.js) when a run-time
 * require() may ask for it (it must answer synchronously). `needs` is the
 * bundle's NEEDS_EXPORT; a bundle built before it existed gets everything.
 * @param {{ builtins: string[], require: boolean } | undefined} needs
 */
async function prepare(needs) {
  if (needs === undefined || needs.require) await import("./shim-fs.js");
  const names = needs === undefined ? ["http", "https", "net", "tls", "util"] : needs.builtins;
  for (const name of names) prepareBuiltin(name);
}

function initError(thrown) {
  const error = explainCodeGeneration(thrown);
  if (error !== thrown) return error;
  const name = error instanceof Error ? error.name : "Error";
  const message = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error ? error.stack : undefined;
  if (name === IMPORT_MODULE_ERROR) return error;
  // A package that failed because its native addon could not load (sharp): say that, not its own guess.
  if (nativeAddonAttempted !== undefined) {
    return runtimeError(IMPORT_MODULE_ERROR, "Error: Cannot load native addon '" + nativeAddonAttempted + "': native addons (.node files) are not supported by cellfn (" + name + ": " + message.split("\n")[0] + ")", stack);
  }
  // The RIC's _tryRequire: a module that is not found is an ImportModuleError.
  const code = /** @type {{ code?: unknown }} */ (error ?? {}).code;
  if (/^No such module /.test(message) || code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") {
    return runtimeError(IMPORT_MODULE_ERROR, name + ": " + message, stack);
  }
  if (error instanceof SyntaxError) return runtimeError("Runtime.UserCodeSyntaxError", name + ": " + message, stack);
  return error; // the module's own error, reported as it was thrown
}

async function resolveHandler(handler) {
  let value;
  try {
    value = await loadHandlerModule();
  } catch (error) {
    return { error: initError(error) };
  }
  for (const key of propertyPath(handler)) value = value ? value[key] : undefined;
  if (!value) return { error: runtimeError("Runtime.HandlerNotFound", handler + " is undefined or not exported") };
  if (typeof value !== "function") return { error: runtimeError("Runtime.HandlerNotFound", handler + " is not a function") };
  return { fn: value };
}

// ---- Running one invocation.
const runCallback = callbackRunner(emptyEventLoop);
let initialised; // Promise of { fn } | { payload }: the init phase runs once per isolate
let runtime;
let carried = []; // lines logged after the last invocation returned

// The init phase: loads the module and resolves the handler, logging into `initLines`.
/** The init phase: module load and handler checks. `requestId` names the invocation an init failure is reported in (none ahead of traffic). */
async function runInit(settings, initLines, requestId) {
  runtime = settings.runtime;
  setTmpQuota(settings.ephemeralStorageMB);
  useSink(initLines);
  initialised = resolveHandler(settings.handler).then(({ fn, error }) => {
    // process.exit() in the module's own code: Lambda's runtime process ends during init (Runtime.ExitError).
    if (error instanceof ProcessExit) error = runtimeError("Runtime.ExitError", exitMessage(requestId, error.status));
    if (!error && runtime === "nodejs24.x" && fn.length >= 3) error = runtimeError("Runtime.CallbackHandlerDeprecated", CALLBACK_REMOVED);
    if (!error && runtime !== "nodejs24.x" && fn.length === 3 && fn.constructor?.name !== "AsyncFunction" &&
        process.env.AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING === undefined) console.warn(CALLBACK_WARNING);
    if (error) logError(runtime === "nodejs24.x" ? "Init Error" : "Uncaught Exception", error);
    // A runtime that exited is reported by Lambda, not by the runtime: errorType and errorMessage, no trace.
    if (error?.name === "Runtime.ExitError") return { payload: { errorType: error.name, errorMessage: error.message } };
    return error ? { payload: errorPayload(error) } : { fn };
  });
  const outcome = await initialised;
  useSink(carried = []);
  return outcome;
}

export default class extends WorkerEntrypoint {
  // Loads the module and checks the handler exists, without calling it.
  async probe(handler) {
    const { error } = await resolveHandler(handler);
    if (!error) return { ok: true };
    const { errorType, errorMessage } = errorPayload(error);
    return { ok: false, errorType, errorMessage };
  }

  // The init phase (on a cold isolate) and the invocation, in this one
  // request: what the module code started without awaiting it (a timer, a
  // fetch, a promise the handler awaits) runs on into the invocation, as in
  // Lambda. workerd ends a request's pending work when the request ends, so
  // init must not be a request of its own. initDone(), a callback into the
  // executor, reports the end of init: Init Duration, the init lines (logged
  // before START), and the start of the function's timeout.
  async invoke(request, settings, initDone, streamTo) {
    // The runtime crashed after its last invocation returned (a timer or a
    // promise of the function threw): in Lambda the process is gone and the
    // next invocation gets a new environment. Nothing runs here.
    if (crashed) return { crashedBefore: true };
    // A new isolate behind the same id (the loader may replace one at any
    // time) where the executor expected a warm one: it retries with initDone.
    if (!initialised && !initDone) return { uninitialised: true };
    applyInvocationVariables(request);
    if (!initialised) {
      const initLines = [];
      const { payload } = await runInit(settings, initLines, request.requestId);
      await initDone({ lines: initLines, error: payload });
    }
    const { fn, payload: initFailure } = await initialised;
    if (initFailure) return { payload: JSON.stringify(initFailure), failed: true, lines: [], crashed };
    const lines = carried;
    useSink(lines);
    requestId = request.requestId;
    activeToken = request.egressToken;
    // After init: the function's timeout runs from here.
    const deadlineMs = Date.now() + request.timeoutSeconds * 1000;
    const context = {
      functionVersion: request.functionVersion, functionName: request.functionName,
      memoryLimitInMB: String(request.memoryLimitInMB), logGroupName: request.logGroupName,
      logStreamName: request.logStreamName, clientContext: request.clientContext, identity: undefined,
      invokedFunctionArn: request.invokedFunctionArn, awsRequestId: request.requestId,
      ...(request.tenantId === undefined ? {} : { tenantId: request.tenantId }),
      getRemainingTimeInMillis: () => deadlineMs - Date.now(),
    };
    let outcome;
    let channel;
    try {
      const event = request.payload === "" ? {} : JSON.parse(request.payload);
      // InvokeWithResponseStream: the bytes leave through `channel` as they are written.
      channel = streamTo ? responseChannel(streamTo) : undefined;
      const streaming = channel !== undefined && isStreamingHandler(fn);
      const run = streaming ? (f, e, c) => runStreaming(f, e, c, channel) : runtime === "nodejs24.x" ? runPromise : runCallback;
      outcome = await new Promise((resolve) => {
        crashInvocation = resolve;
        // Thawed before the event is handled, as Node's timers phase runs
        // first when Lambda thaws the process; what they throw fails this invocation.
        // A turn later, a rejection they caused has been reported too.
        const thawed = timers.thaw() > 0 ? new Promise((r) => platform.setTimeout(r, 0)) : Promise.resolve();
        thawed.then(() => {
          if (!crashed) invocationStore.run({ token: request.egressToken }, () => run(fn, event, context)).then(resolve, (error) => resolve({ error }));
        });
      });
    } catch (error) {
      outcome = { error };
    }
    crashInvocation = undefined;
    if ("exited" in outcome) {
      const errorMessage = exitMessage(request.requestId, outcome.exited);
      useSink(carried = []);
      activeToken = undefined;
      await channel?.abort();
      return { payload: JSON.stringify({ errorType: "Runtime.ExitError", errorMessage }), failed: true, lines: [...lines, errorMessage + "\nRuntime.ExitError"], crashed };
    }
    if (!("error" in outcome)) outcome = serialize(outcome.result);
    let result;
    if ("error" in outcome) {
      if (!outcome.logged) outcome.error = explainCodeGeneration(outcome.error);
      if (!outcome.logged) logError("Invoke Error", outcome.error);
      result = { payload: JSON.stringify(errorPayload(outcome.error)), failed: true };
    } else if (tooLarge(outcome.payload)) {
      result = { payload: JSON.stringify({ errorType: "Function.ResponseSizeTooLarge", errorMessage: "Response payload size exceeded maximum allowed payload size (" + MAX_RESPONSE_BYTES + " bytes)." }), failed: true };
    } else {
      result = { payload: outcome.payload, failed: false };
    }
    if (channel) {
      // A streaming handler's bytes are sent; a non-streaming handler's payload is one chunk, as in Lambda.
      if (result.failed) await channel.abort();
      else if (isStreamingHandler(fn)) result.payload = "";
      else await channel.sendAll(result.payload);
    }
    useSink(carried = []);
    activeToken = undefined;
    return { ...result, lines, crashed };
  }

  // Provisioned concurrency: the init phase alone, ahead of any invocation,
  // in a request of its own (what the module code leaves pending ends with
  // it). An isolate that ran its init phase already answers { already: true }
  // at once, which is how the platform checks that a provisioned isolate is
  // still there.
  async init(request, settings) {
    if (crashed) return { crashed: true };
    if (initialised) {
      await initialised;
      return { already: true };
    }
    applyInvocationVariables(request);
    const initLines = [];
    const { payload } = await runInit(settings, initLines, request.requestId);
    return { lines: initLines, error: payload };
  }

  // What an invocation logged so far; the executor asks after a timeout.
  takeLogs(id) {
    return id === requestId ? sink.slice() : [];
  }

  // The platform retired this environment: end the isolate, which is the
  // only way out of the Worker Loader's map (workerd never evicts by itself).
  // (abortIsolate is missing from the workers types, hence the cast.)
  retire() {
    /** @type {{ abortIsolate?: (reason: string) => never }} */ (/** @type {unknown} */ (workers)).abortIsolate?.("cellfn: execution environment retired");
  }
}
