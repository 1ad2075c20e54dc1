/**
 * The only module that talks to the Worker Loader (`env.LOADER`): it runs a
 * function's bundle in a Dynamic Worker, next to the runtime shim.
 */
import { SHIM_SOURCE } from "./shim-source";

/** Compatibility settings of every function's Dynamic Worker. */
const COMPATIBILITY_DATE = "2026-11-01";
const COMPATIBILITY_FLAGS = ["nodejs_compat"];

/** How long a probe may take to load the module before we stop waiting. */
const PROBE_TIMEOUT_MS = 10_000;

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

/** RPC surface of the shim's default export (src/runtime/shim-source.ts). */
interface ShimEntrypoint extends Rpc.WorkerEntrypointBranded {
  probe(handler: string): Promise<ProbeResult>;
}

/**
 * Loads `bundle` into a throwaway Dynamic Worker with no network access and
 * checks that `handler` names a function it exports. Never throws: a Worker
 * that fails to start (e.g. it does not parse) is reported like a module that
 * fails to load.
 */
export async function probeHandler(loader: WorkerLoader, bundle: string, handler: string): Promise<ProbeResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          ok: false,
          errorType: "Sandbox.Timedout",
          errorMessage: `Loading the handler module did not finish within ${PROBE_TIMEOUT_MS / 1000} seconds`,
        }),
      PROBE_TIMEOUT_MS,
    );
  });
  try {
    const worker = loader.load({
      compatibilityDate: COMPATIBILITY_DATE,
      compatibilityFlags: COMPATIBILITY_FLAGS,
      mainModule: "shim.js",
      modules: { "shim.js": SHIM_SOURCE, "handler.js": bundle },
      // Probing must not reach the network: it only evaluates the module.
      globalOutbound: null,
    });
    const shim = worker.getEntrypoint<ShimEntrypoint>();
    return await Promise.race([shim.probe(handler), timeout]);
  } catch (error) {
    return startFailure(error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * workerd reports a Worker that cannot start as
 * "Failed to start Worker:\nUncaught SyntaxError: ...".
 */
function startFailure(error: unknown): ProbeResult {
  const message = error instanceof Error ? error.message : String(error);
  const errorType = /\bSyntaxError\b/.test(message) ? "Runtime.UserCodeSyntaxError" : "Runtime.ImportModuleError";
  return { ok: false, errorType, errorMessage: message.replace(/\s+/g, " ").trim() };
}
