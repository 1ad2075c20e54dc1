/**
 * The handler every benchmark case runs: cellfn gets it as index.mjs in the
 * function's zip, the baseline Worker (bench/baseline/worker.ts) loads it as a
 * Dynamic Worker module and also runs the same logic inline.
 */
export const HANDLER_SOURCE = "export const handler = async (event) => ({ ok: true, echo: event });\n";
