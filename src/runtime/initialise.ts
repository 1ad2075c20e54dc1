/**
 * Provisioned concurrency's half of the runtime: runs the init phase of an
 * execution environment ahead of any invocation (src/invoke/provisioned-pool.ts
 * asks), so the first invocation there finds the module loaded and reports
 * no Init Duration. Calling it again on an environment whose isolate is still
 * there costs one RPC and changes nothing; on one the Worker Loader replaced,
 * it runs the init phase again.
 */
import type { BundleState, ErrorPayload, ExecutionEnvironment, InitReport, InvocationRequest, ShimEntrypoint } from "./worker-code";
import { DEFAULT_EPHEMERAL_STORAGE_MB, INIT_TIMEOUT_MS, loadCode, startFailure, withDeadline } from "./worker-code";

export type InitOutcome =
  /** The init phase ran now: the lines its module code logged and how long it took. */
  | { kind: "initialised"; initDurationMs: number; lines: string[] }
  /** The isolate had run its init phase already: nothing ran. */
  | { kind: "already" }
  /** The function's init failed (its error, as Lambda reports it); the environment must not be used. */
  | { kind: "failed"; error: ErrorPayload; lines: string[] }
  /** The platform failed (bundle unreadable, isolate gone): try again later. */
  | { kind: "unavailable"; reason: string };

export async function initialise(loader: WorkerLoader, env: ExecutionEnvironment, request: InvocationRequest): Promise<InitOutcome> {
  const bundle: BundleState = { ms: 0, error: undefined };
  const started = performance.now();
  try {
    const worker = loader.get(env.id, () => loadCode(env, request, bundle));
    const shim = worker.getEntrypoint<ShimEntrypoint>(undefined, { limits: { cpuMs: INIT_TIMEOUT_MS } });
    const settings = { runtime: env.runtime, handler: env.handler, ephemeralStorageMB: env.ephemeralStorageMB ?? DEFAULT_EPHEMERAL_STORAGE_MB };
    const run = await withDeadline<InitReport | { already: true } | { crashed: true }>(shim.init(request, settings), INIT_TIMEOUT_MS);
    if (run.kind === "timeout") {
      const error = { errorType: "Sandbox.Timedout", errorMessage: `Init phase did not finish within ${INIT_TIMEOUT_MS / 1000} seconds` };
      return { kind: "failed", error, lines: [] };
    }
    const report = run.value;
    if ("already" in report) return { kind: "already" };
    if ("crashed" in report) return { kind: "unavailable", reason: "the runtime crashed after its last invocation" };
    const initDurationMs = Math.max(0, performance.now() - started - bundle.ms);
    const lines = report.lines;
    if (report.error) return { kind: "failed", error: report.error, lines };
    return { kind: "initialised", initDurationMs, lines };
  } catch (error) {
    if (bundle.error !== undefined) {
      const message = bundle.error instanceof Error ? bundle.error.message : String(bundle.error);
      return { kind: "unavailable", reason: `Could not load the function's code: ${message}` };
    }
    const message = error instanceof Error ? error.message : String(error);
    // A module that does not parse fails every time: that is the function's error, not ours.
    if (/^Failed to start Worker/.test(message)) return { kind: "failed", error: startFailure(error), lines: [] };
    return { kind: "unavailable", reason: message };
  }
}
