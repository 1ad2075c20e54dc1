/**
 * Unloads the Dynamic Worker of a retired execution environment.
 *
 * workerd's Worker Loader keeps every named isolate it loaded for the life of
 * the process (it never evicts on its own); an environment id is never used
 * again once its environment is retired (src/invoke/partition-rules.ts), so
 * without this every timeout, crash, exit, idle expiry and provisioned
 * replacement left an isolate of a few MB behind (`npm run soak:path`,
 * README "Soak"). The one way out of the loader's map is `abortIsolate()`
 * from `cloudflare:workers`, called inside the loaded Worker: the shim's
 * `retire()` (src/runtime/shim.js) does that. Its caller sees the isolate
 * terminated (a rejected RPC), which is the expected answer here.
 *
 * When the id has no isolate (never loaded, or loaded by a workerd process
 * that has since restarted) the loader starts the tiny placeholder below
 * instead, which aborts itself the same way, so nothing stays behind either.
 */
import type { ShimEntrypoint } from "./worker-code";

const COMPATIBILITY_DATE = "2026-11-01";
/** A Worker that only leaves the loader's map (for an id the loader does not hold). */
export const RETIRE_PLACEHOLDER = `import { WorkerEntrypoint, abortIsolate } from "cloudflare:workers";
export default class extends WorkerEntrypoint {
  retire() { abortIsolate("cellfn: execution environment retired"); }
}`;

/** How long to wait for the isolate to take the call (one that spins never does; it is left to workerd). */
const UNLOAD_TIMEOUT_MS = 5_000;

/**
 * Asks the isolate of environment `id` to abort itself. Resolves (never
 * rejects) once it did, or did not answer in time: "aborted" when the call
 * ended the isolate, "timeout" when it did not answer, "answered" when the
 * isolate returned normally (a runtime without abortIsolate: it stays loaded).
 */
export async function unloadEnvironment(loader: WorkerLoader, id: string): Promise<"aborted" | "answered" | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const worker = loader.get(id, async () => ({ compatibilityDate: COMPATIBILITY_DATE, mainModule: "retire.js", modules: { "retire.js": RETIRE_PLACEHOLDER }, globalOutbound: null }));
    const shim = worker.getEntrypoint<ShimEntrypoint>();
    const call = shim.retire().then(
      () => "answered" as const,
      () => "aborted" as const,
    );
    const late = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), UNLOAD_TIMEOUT_MS)));
    return await Promise.race([call, late]);
  } catch {
    return "aborted";
  } finally {
    clearTimeout(timer);
  }
}
