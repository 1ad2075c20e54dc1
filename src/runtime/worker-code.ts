/**
 * The Dynamic Worker of a function: the runtime's modules (the shim and its
 * parts) beside the function's bundle, its compatibility settings and
 * variables, built when the Worker Loader starts a new isolate; and the
 * upload probe, which loads a bundle in a throwaway one. The invoke flow that
 * runs requests in these Workers is src/runtime/executor.ts.
 */
import { platformSdkModules } from "../code/platform-modules";
import { MARKERS_MODULE } from "./markers";
import { ENDPOINT_VARIABLES } from "./platform-endpoint";
import { runtimeVariables } from "./runtime-variables";
// wrangler's Text rule makes each default export the module's text (typed so by `wrangler types`).
import SHIM_FILES_SOURCE from "./shim-files.js";
import SHIM_FS_SOURCE from "./shim-fs.js";
import SHIM_HTTP_SOURCE from "./shim-http.js";
import SHIM_RESULTS_SOURCE from "./shim-results.js";
import SHIM_LOGS_SOURCE from "./shim-logs.js";
import SHIM_MODULES_SOURCE from "./shim-modules.js";
import SHIM_PROCESS_SOURCE from "./shim-process.js";
import SHIM_STREAMING_SOURCE from "./shim-streaming.js";
import SHIM_TIMERS_SOURCE from "./shim-timers.js";
import SHIM_SOURCE from "./shim.js";

/** Compatibility settings of every function's Dynamic Worker. */
const COMPATIBILITY_DATE = "2026-11-01";
/**
 * `enable_nodejs_http_server_modules`: node:http's ServerResponse (and
 * createServer) work for real, as the HTTP adapters (serverless-http,
 * @codegenie/serverless-express) need: they build a ServerResponse and
 * assignSocket() it, which the stubbed module refuses.
 */
const COMPATIBILITY_FLAGS = ["nodejs_compat", "enable_nodejs_http_server_modules"];

/**
 * The runtime's modules beside the function's `handler.js` in every Dynamic
 * Worker: the shim (main module) and its parts (logs, process, timers,
 * response streaming, node:http responses with a socket), the names it shares with the bundler, and the modules
 * the bundle imports (the file tables, fs over /var/task and /tmp, run-time require). Every
 * module here is compiled at isolate start, imported or not; the shim evaluates Node
 * built-ins only when the function loads them (see prepare() in shim.js).
 */
export const RUNTIME_MODULES = {
  "shim.js": SHIM_SOURCE,
  "shim-logs.js": SHIM_LOGS_SOURCE,
  "shim-process.js": SHIM_PROCESS_SOURCE,
  "shim-timers.js": SHIM_TIMERS_SOURCE,
  "shim-streaming.js": SHIM_STREAMING_SOURCE,
  "shim-http.js": SHIM_HTTP_SOURCE,
  "shim-results.js": SHIM_RESULTS_SOURCE,
  "markers.js": MARKERS_MODULE,
  "shim-files.js": SHIM_FILES_SOURCE,
  "shim-fs.js": SHIM_FS_SOURCE,
  "shim-modules.js": SHIM_MODULES_SOURCE,
} as const;

/** Every module of a function's Dynamic Worker: the runtime's, the preinstalled packages its bundle imports, the bundle. */
export function functionModules(bundle: string): Record<string, string> {
  return { ...RUNTIME_MODULES, ...platformSdkModules(bundle), "handler.js": bundle };
}

/** Lambda's default EphemeralStorage.Size. */
export const DEFAULT_EPHEMERAL_STORAGE_MB = 512;

/** How long a probe may take to run the module code before we stop waiting. */
const PROBE_TIMEOUT_MS = 10_000;
/** Lambda's limit for the init phase (isolate start and the module code, top-level await included). */
export const INIT_TIMEOUT_MS = 10_000;

/**
 * What `probe` reports; errorType values are those of the Lambda Node.js
 * runtime. Besides the named ones it is the error's own name ("Error",
 * "TypeError", ...) when the module's top-level code threw, or
 * "Sandbox.Timedout" when loading did not finish in time.
 */
export type ProbeResult =
  | { ok: true }
  | { ok: false; errorType: "Runtime.HandlerNotFound"; errorMessage: string }
  | { ok: false; errorType: "Runtime.ImportModuleError" | "Runtime.UserCodeSyntaxError"; errorMessage: string }
  | { ok: false; errorType: string; errorMessage: string };

export interface ExecutionEnvironment {
  /** Worker Loader id: the same id may return the same warm isolate (module state kept). */
  id: string;
  /** Returns the function's bundle text (called only when the loader starts a new isolate). */
  loadBundle(): Promise<string>;
  /**
   * Becomes process.env (as string bindings, which nodejs_compat copies into
   * process.env). Lambda's AWS_* variables missing from it are derived from
   * the first request; values given here win.
   */
  environment: Record<string, string>;
  /** globalOutbound for the isolate (an egress gateway Fetcher), or null for no network. */
  egress: Fetcher | null;
  runtime: string; // nodejs20.x | nodejs22.x | nodejs24.x
  handler: string;
  /** EphemeralStorage.Size: what /tmp may hold (ENOSPC past it). Default 512. */
  ephemeralStorageMB?: number;
  /**
   * LoggingConfig: with LogFormat JSON the runtime writes JSON lines, filtered
   * at ApplicationLogLevel, and the platform's records (src/runtime/platform-log.ts) at SystemLogLevel.
   */
  logging?: { LogFormat: string; ApplicationLogLevel?: string | undefined; SystemLogLevel?: string | undefined };
  /**
   * The environment ran an invocation before (a reused lease): invoke with
   * one RPC and no init callback. If the isolate turns out to be new, the
   * shim says so and the usual init path runs.
   */
  warm?: boolean;
  /**
   * AWS_LAMBDA_INITIALIZATION_TYPE of a new isolate: provisioned
   * environments (src/runtime/initialise.ts) say so, the rest are on-demand.
   */
  initializationType?: "on-demand" | "provisioned-concurrency";
}

export interface InvocationRequest {
  requestId: string;
  /** Raw JSON text; "" means {}. */
  payload: string;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: number;
  timeoutSeconds: number;
  logGroupName: string;
  logStreamName: string;
  clientContext?: unknown;
  tenantId?: string;
  /** Sent by the shim on every fetch() of this invocation, in header `x-cellfn-invocation`. */
  egressToken?: string;
  /** `_X_AMZN_TRACE_ID` of this invocation: `Root=1-…;Parent=…;Sampled=0`. */
  traceId?: string;
  /**
   * The environment's session credentials (src/auth/session-credentials.ts):
   * the shim puts them in process.env before init and before each invocation,
   * so a re-minted set replaces one that is about to expire.
   */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: string };
}

export type ErrorPayload = { errorType: string; errorMessage: string; trace?: string[] };
/** What a cold invoke() reports when the init phase ends, before the handler runs. */
export type InitReport = { lines: string[]; error?: ErrorPayload };
/** What the shim's invoke() answers. */
export type InvokeResult = { payload: string; failed: boolean; lines: string[]; crashed: boolean } | { uninitialised: true } | { crashedBefore: true };

/** RPC surface of the shim's default export (src/runtime/shim.js). */
export interface ShimEntrypoint extends Rpc.WorkerEntrypointBranded {
  probe(handler: string): Promise<ProbeResult>;
  invoke(
    request: InvocationRequest,
    settings: { runtime: string; handler: string; ephemeralStorageMB: number },
    initDone?: (report: InitReport) => void,
    streamTo?: (body: ReadableStream<Uint8Array>, contentType: string) => void,
  ): Promise<InvokeResult>;
  takeLogs(requestId: string): Promise<string[]>;
  /** Ends the isolate (abortIsolate): the loader forgets it (src/runtime/unload.ts). Never resolves normally. */
  retire(): Promise<void>;
  init(
    request: InvocationRequest,
    settings: { runtime: string; handler: string; ephemeralStorageMB: number },
  ): Promise<InitReport | { already: true } | { crashed: true }>;
}

/**
 * Loads `bundle` into a throwaway Dynamic Worker with no network access, runs
 * its module code inside the probe request (the init phase: random values,
 * timers and top-level await work there, fetch() fails) and checks that
 * `handler` names a function it exports. Never throws: a Worker that fails to
 * start (e.g. it does not parse) is reported like a module that fails to load.
 */
export async function probeHandler(loader: WorkerLoader, bundle: string, handler: string): Promise<ProbeResult> {
  try {
    const worker = loader.load({
      compatibilityDate: COMPATIBILITY_DATE,
      compatibilityFlags: COMPATIBILITY_FLAGS,
      mainModule: "shim.js",
      modules: functionModules(bundle),
      // Probing must not reach the network: it only evaluates the module.
      globalOutbound: null,
    });
    const outcome = await withDeadline<ProbeResult>(worker.getEntrypoint<ShimEntrypoint>().probe(handler), PROBE_TIMEOUT_MS);
    if (outcome.kind === "done") return outcome.value;
    return {
      ok: false,
      errorType: "Sandbox.Timedout",
      errorMessage: `Loading the handler module did not finish within ${PROBE_TIMEOUT_MS / 1000} seconds`,
    };
  } catch (error) {
    return { ok: false, ...startFailure(error) };
  }
}

export type BundleState = { ms: number; error: unknown };

/**
 * The loader's code callback: runs only when it starts a new isolate. Time
 * spent fetching the bundle is recorded so Init Duration leaves it out.
 */
export async function loadCode(env: ExecutionEnvironment, request: InvocationRequest, state: BundleState): Promise<WorkerLoaderWorkerCode> {
  const started = performance.now();
  try {
    const bundle = await env.loadBundle();
    state.ms = performance.now() - started;
    return workerCode(env, request, bundle);
  } catch (error) {
    // Not rethrown: the loader would log it as an uncaught rejection. This
    // placeholder isolate fails every call; the id is retired (reusable: false).
    state.error = error;
    return { compatibilityDate: COMPATIBILITY_DATE, mainModule: "unavailable.js", modules: { "unavailable.js": "export default {};" }, globalOutbound: null };
  }
}

/** The Dynamic Worker of one execution environment. */
function workerCode(env: ExecutionEnvironment, request: InvocationRequest, bundle: string): WorkerLoaderWorkerCode {
  const region = request.invokedFunctionArn.split(":")[3] ?? "";
  const variables: Record<string, string> = {
    AWS_LAMBDA_FUNCTION_NAME: request.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: request.functionVersion,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(request.memoryLimitInMB),
    AWS_LAMBDA_LOG_GROUP_NAME: request.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: request.logStreamName,
    AWS_LAMBDA_INITIALIZATION_TYPE: env.initializationType ?? "on-demand",
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${env.runtime}`,
    _HANDLER: env.handler,
    LANG: "en_US.UTF-8",
    TZ: ":UTC",
    ...runtimeVariables(env.runtime),
    // Read by the shim's console (src/runtime/shim-logs.js), as by the Lambda runtime.
    ...(env.logging?.LogFormat === "JSON"
      ? { AWS_LAMBDA_LOG_FORMAT: "JSON", AWS_LAMBDA_LOG_LEVEL: env.logging.ApplicationLogLevel ?? "INFO" }
      : {}),
    // The SDK finds cellfn's APIs with no configuration; a user's own value wins.
    ...ENDPOINT_VARIABLES,
    ...env.environment,
  };
  return {
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: COMPATIBILITY_FLAGS,
    mainModule: "shim.js",
    modules: functionModules(bundle),
    // String bindings: with nodejs_compat (populate_process_env, on by
    // default since 2025-04-01) they are also process.env; the tests check it.
    env: Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, String(value)])),
    globalOutbound: env.egress,
  };
}

export type Deadline<T> = { kind: "done"; value: T } | { kind: "timeout" };

/** Races `promise` with a timer; a rejection still rejects. The loser is ignored. */
export async function withDeadline<T>(promise: PromiseLike<T>, ms: number): Promise<Deadline<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<Deadline<T>>((resolve) => {
    timer = setTimeout(() => resolve({ kind: "timeout" }), ms);
  });
  const settled = Promise.resolve(promise).then((value) => ({ kind: "done" as const, value }));
  settled.catch(() => undefined); // a late rejection after the deadline is not unhandled
  try {
    return await Promise.race([settled, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * workerd reports a Worker that cannot start as
 * "Failed to start Worker:\nUncaught SyntaxError: ...".
 */
export function startFailure(error: unknown): { errorType: string; errorMessage: string } {
  const message = error instanceof Error ? error.message : String(error);
  const errorType = /\bSyntaxError\b/.test(message) ? "Runtime.UserCodeSyntaxError" : "Runtime.ImportModuleError";
  return { errorType, errorMessage: message.replace(/\s+/g, " ").trim() };
}
