/**
 * The only module that talks to the Worker Loader (`env.LOADER`): it runs a
 * function's bundle in a Dynamic Worker, next to the runtime shim
 * (src/runtime/shim.js), for the upload probe and for invocations.
 */
import { platformSdkModules } from "../code/platform-modules";
import { billedDurationMs, cpuBoundLine, joinLog, timeoutMessage } from "./log-format";
import { MARKERS_MODULE } from "./markers";
import { ENDPOINT_VARIABLES } from "./platform-endpoint";
import { type InvocationStatus, platformLog } from "./platform-log";
import { runtimeVariables } from "./runtime-variables";
// wrangler's Text rule makes each default export the module's text (typed so by `wrangler types`).
import SHIM_FILES_SOURCE from "./shim-files.js";
import SHIM_FS_SOURCE from "./shim-fs.js";
import SHIM_HTTP_SOURCE from "./shim-http.js";
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
/** After a timeout, how long to wait for the lines the handler logged so far. */
const LOG_DRAIN_MS = 200;

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

export interface InvocationResult {
  /** JSON text of the handler's result, or of the Lambda error object. */
  payload: string;
  functionError?: "Unhandled";
  /** The full log of this invocation: (init lines on a cold start), START, app lines, (timeout line), END, REPORT. */
  log: string;
  /** The same log, a line (a log event) per entry. */
  lines: string[];
  durationMs: number;
  billedDurationMs: number;
  initDurationMs?: number;
  /** false after a timeout, a crash or a failed init: the environment must never be used again. */
  reusable: boolean;
  timedOut: boolean;
  /**
   * Set when the platform, not the function, failed (the bundle could not be
   * loaded): the caller should answer ServiceException rather than a function error.
   */
  platformError?: string;
  /**
   * Set when the environment had crashed after its previous invocation (an
   * uncaught error once the handler had returned): nothing ran; the caller
   * retires it and runs the invocation on another one.
   */
  crashedBefore?: true;
}

export type ErrorPayload = { errorType: string; errorMessage: string; trace?: string[] };
/** What a cold invoke() reports when the init phase ends, before the handler runs. */
export type InitReport = { lines: string[]; error?: ErrorPayload };
type InvokeResult = { payload: string; failed: boolean; lines: string[]; crashed: boolean } | { uninitialised: true } | { crashedBefore: true };

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

/**
 * Runs one invocation in the execution environment `env`, as Lambda would:
 * init on a cold start, the handler under the function's timeout, the
 * invocation's log. Never throws. Callers run one invocation at a time per
 * environment id, and never reuse an id whose result says `reusable: false`.
 */
export interface InvokeStreaming {
  /**
   * InvokeWithResponseStream: called once, at the function's first write (or
   * when it ends without writing), before the invocation's result, with the
   * bytes of the response as the function writes them (a streaming handler's
   * stream, or a non-streaming handler's payload as one chunk) and the
   * content type it set. The stream closes when the response is complete; on
   * a failure it closes early and the result carries the error.
   */
  onStream?: (body: ReadableStream<Uint8Array>, contentType: string) => void;
}

export async function invoke(
  loader: WorkerLoader,
  env: ExecutionEnvironment,
  request: InvocationRequest,
  streaming: InvokeStreaming = {},
): Promise<InvocationResult> {
  const streamTo = streaming.onStream;
  const timeoutMs = request.timeoutSeconds * 1000;
  const bundle: BundleState = { ms: 0, error: undefined };
  const log: string[] = [];
  let initDurationMs: number | undefined;
  let invokeStarted: number | undefined;
  const platform = platformLog(env.logging, { ...request, runtime: env.runtime });
  let started = false;
  /** START (or platform.start), once. */
  const start = () => {
    if (started) return;
    started = true;
    log.push(...platform.start(new Date(), request.requestId));
  };

  const finish = (fields: { payload: string; failed: boolean; durationMs: number; reusable: boolean; timedOut?: boolean }) => {
    const durationMs = Math.max(0, fields.durationMs);
    const billed = billedDurationMs(durationMs, initDurationMs);
    const errorType = fields.failed ? errorTypeOf(fields.payload) : undefined;
    log.push(
      ...platform.end(new Date(), {
        requestId: request.requestId,
        durationMs,
        billedDurationMs: billed,
        memorySizeMB: request.memoryLimitInMB,
        ...(initDurationMs === undefined ? {} : { initDurationMs }),
        status: statusOf(fields.timedOut ?? false, errorType),
        ...(errorType === undefined ? {} : { errorType }),
      }),
    );
    return {
      payload: fields.payload,
      ...(fields.failed ? { functionError: "Unhandled" as const } : {}),
      log: joinLog(log),
      lines: log,
      durationMs,
      billedDurationMs: billed,
      ...(initDurationMs === undefined ? {} : { initDurationMs }),
      reusable: fields.reusable,
      timedOut: fields.timedOut ?? false,
    };
  };
  const timedOut = (durationMs: number) => {
    log.push(...platform.timeout(new Date(), request.requestId, request.timeoutSeconds));
    const payload = JSON.stringify({ errorType: "Sandbox.Timedout", errorMessage: timeoutMessage(request.requestId, request.timeoutSeconds) });
    return finish({ payload, failed: true, durationMs, reusable: false, timedOut: true });
  };
  /** The handler's run, once it answered or its deadline passed. */
  const settle = async (shim: ShimEntrypoint, run: Deadline<InvokeResult>, durationMs: number): Promise<InvocationResult> => {
    if (run.kind === "timeout") {
      // Whatever the handler logged before the deadline, if the isolate can still answer.
      const drained = await withDeadline<string[]>(shim.takeLogs(request.requestId), LOG_DRAIN_MS).catch(() => undefined);
      if (drained?.kind === "done") log.push(...drained.value);
      return timedOut(durationMs);
    }
    if (durationMs > timeoutMs) {
      // It answered, but only after the deadline: our timer could not fire
      // while the handler held the thread. Lambda would have stopped it.
      if ("lines" in run.value) log.push(...run.value.lines);
      const notice = cpuBoundLine(new Date(), request.requestId, request.timeoutSeconds, durationMs);
      console.warn(notice);
      log.push(notice);
      return timedOut(durationMs);
    }
    if ("crashedBefore" in run.value) {
      return { payload: "", log: "", lines: [], durationMs: 0, billedDurationMs: 0, reusable: false, timedOut: false, crashedBefore: true };
    }
    if ("uninitialised" in run.value) throw new Error("the execution environment was replaced during its init phase");
    log.push(...run.value.lines);
    return finish({ payload: run.value.payload, failed: run.value.failed, durationMs, reusable: !run.value.crashed });
  };

  try {
    const worker = loader.get(env.id, () => loadCode(env, request, bundle));
    const settings = { runtime: env.runtime, handler: env.handler, ephemeralStorageMB: env.ephemeralStorageMB ?? DEFAULT_EPHEMERAL_STORAGE_MB };
    // The CPU limits stop a handler that never yields on Cloudflare; the
    // timers below cannot fire while it holds the thread (see the tests).
    if (env.warm) {
      // One RPC, no callback: the isolate ran an invocation before. If the
      // loader replaced it meanwhile, the shim says so and the cold path runs.
      const shim = worker.getEntrypoint<ShimEntrypoint>(undefined, { limits: { cpuMs: Math.ceil(timeoutMs) } });
      const mark = log.length;
      start();
      invokeStarted = performance.now();
      const run = await withDeadline<InvokeResult>(shim.invoke(request, settings, undefined, streamTo), timeoutMs);
      if (run.kind === "done" && "uninitialised" in run.value) {
        log.length = mark;
        started = false;
      } else return await settle(shim, run, performance.now() - invokeStarted);
    }

    // A new isolate runs the init phase inside the invoke() request (see the
    // shim), under its own limit, then calls back before the handler runs.
    const shim = worker.getEntrypoint<ShimEntrypoint>(undefined, { limits: { cpuMs: INIT_TIMEOUT_MS + Math.ceil(timeoutMs) } });
    const initStarted = performance.now();
    const initStartedAt = new Date();
    let reportInit: (report: InitReport) => void = () => {};
    const initReported = new Promise<InitReport>((resolve) => {
      reportInit = resolve;
    });
    const running = Promise.resolve(
      shim.invoke(
        request,
        settings,
        (report: InitReport) => {
          reportInit(report);
        },
        streamTo,
      ),
    );
    running.catch(() => undefined); // awaited below, unless init times out first
    const phase = await withDeadline<{ init: InitReport } | { result: InvokeResult }>(
      Promise.race([initReported.then((report) => ({ init: report })), running.then((result) => ({ result }))]),
      INIT_TIMEOUT_MS,
    );
    if (phase.kind === "timeout") {
      log.push(...platform.initStart(initStartedAt));
      start();
      return timedOut(performance.now() - initStarted);
    }
    if ("init" in phase.value) {
      // Isolate start and the init phase, without fetching the bundle.
      initDurationMs = Math.max(0, performance.now() - initStarted - bundle.ms);
      log.push(...platform.initStart(initStartedAt), ...phase.value.init.lines);
      if (phase.value.init.error) {
        start();
        return finish({ payload: JSON.stringify(phase.value.init.error), failed: true, durationMs: 0, reusable: false });
      }
    }
    // (A result before any init report: the isolate had run its init phase already.)
    start();
    invokeStarted = performance.now();
    const run = await withDeadline<InvokeResult>(running, timeoutMs);
    return await settle(shim, run, performance.now() - invokeStarted);
  } catch (error) {
    if (bundle.error !== undefined) {
      const message = bundle.error instanceof Error ? bundle.error.message : String(bundle.error);
      const result = finish({ payload: JSON.stringify({ errorType: "ServiceException", errorMessage: message }), failed: true, durationMs: 0, reusable: false });
      return { ...result, platformError: `Could not load the function's code: ${message}` };
    }
    const elapsed = invokeStarted === undefined ? 0 : performance.now() - invokeStarted;
    // A CPU limit equal to the timeout only trips after at least that much wall time.
    if (elapsed >= timeoutMs) return timedOut(elapsed);
    start();
    return crashed(error, request, log, (fields) => finish({ ...fields, durationMs: elapsed }));
  }
}

/**
 * The isolate failed under the invocation: it did not start (the bundle does
 * not parse), exceeded a resource limit, or was torn down. Lambda reports a
 * runtime that dies mid-invocation as Runtime.ExitError.
 */
function crashed(
  error: unknown,
  request: InvocationRequest,
  log: string[],
  finish: (fields: { payload: string; failed: boolean; reusable: boolean }) => InvocationResult,
): InvocationResult {
  const message = error instanceof Error ? error.message : String(error);
  if (/^Failed to start Worker/.test(message)) {
    return finish({ payload: JSON.stringify({ ...startFailure(error), trace: [] }), failed: true, reusable: false });
  }
  const errorMessage = `RequestId: ${request.requestId} Error: Runtime exited without providing a reason`;
  log.push(`${errorMessage}\nRuntime.ExitError`);
  return finish({ payload: JSON.stringify({ errorType: "Runtime.ExitError", errorMessage }), failed: true, reusable: false });
}

/** The errorType of an error payload (JSON text), if it has one. */
function errorTypeOf(payload: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(payload);
    const type = typeof parsed === "object" && parsed !== null && "errorType" in parsed ? parsed.errorType : undefined;
    return typeof type === "string" ? type : undefined;
  } catch {
    return undefined;
  }
}

/** The report's status: the runtime's own failures (it exited, or the platform could not run it) are "failure". */
function statusOf(timedOut: boolean, errorType: string | undefined): InvocationStatus {
  if (timedOut) return "timeout";
  if (errorType === undefined) return "success";
  return errorType === "Runtime.ExitError" || errorType === "ServiceException" ? "failure" : "error";
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
