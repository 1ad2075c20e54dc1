/**
 * One-time esbuild-wasm initialisation inside workerd, following
 * @cloudflare/worker-bundler: the browser build of esbuild (no child process,
 * no filesystem) driven by the esbuild.wasm binary that wrangler and the
 * vitest plugin load as a compiled `WebAssembly.Module`, run on the calling
 * thread (`worker: false`: workerd has no Web Workers).
 */
import * as esbuild from "esbuild-wasm/esm/browser.js";

export type Esbuild = typeof esbuild;

/**
 * Started at module evaluation so the ~10 MB wasm compile overlaps with
 * whatever runs before the first build instead of delaying it.
 */
const wasmImport: Promise<WebAssembly.Module> = import("esbuild-wasm/esbuild.wasm").then((m) => m.default);
// Surfaced by getEsbuild(); without this an early failure is an unhandled rejection.
wasmImport.catch(() => {});

let ready: Promise<Esbuild> | undefined;

/** esbuild, initialised once per isolate. A failed attempt is retried on the next call. */
export function getEsbuild(): Promise<Esbuild> {
  ready ??= (async () => {
    const wasmModule = await wasmImport;
    try {
      await esbuild.initialize({ wasmModule, worker: false });
    } catch (error) {
      // Another copy of this module (e.g. a second test file in the same
      // isolate) may have initialised the shared esbuild instance already.
      if (!(error instanceof Error && error.message.includes("more than once"))) throw error;
    }
    return esbuild;
  })().catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return ready;
}
