/**
 * The invoke flow of the runtime: runs one invocation in an execution
 * environment (a Worker Loader isolate of the function's Dynamic Worker,
 * built by src/runtime/worker-code.ts) as Lambda would: init on a cold
 * start, the handler under its timeout, the platform's log lines. Never throws.
 */
import { billedDurationMs, cpuBoundLine, joinLog, timeoutMessage } from "./log-format";
import { type InvocationStatus, platformLog } from "./platform-log";
import type { ExecutionEnvironment, InitReport, InvocationRequest, InvokeResult, ShimEntrypoint } from "./worker-code";
import { type BundleState, DEFAULT_EPHEMERAL_STORAGE_MB, type Deadline, INIT_TIMEOUT_MS, loadCode, startFailure, withDeadline } from "./worker-code";

// The runtime behind one interface: callers take the environment and request types from here too.
export type { ExecutionEnvironment, InvocationRequest } from "./worker-code";

/** After a timeout, how long to wait for the lines the handler logged so far. */
const LOG_DRAIN_MS = 200;

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

