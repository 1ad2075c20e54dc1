/**
 * The handler every benchmark case runs: cellfn gets it as index.mjs in the
 * function's zip, the baseline Worker (bench/baseline/worker.ts) loads it as a
 * Dynamic Worker module and also runs the same logic inline.
 */
export const HANDLER_SOURCE = "export const handler = async (event) => ({ ok: true, echo: event });\n";

/**
 * bench:goodput's CPU-bound handler (and bench:refusal-cost's, to price a
 * refusal against it): a loop of `event.spin` iterations, a few ms of CPU at
 * SPIN_DEFAULT.
 */
export const SPIN_HANDLER_SOURCE = `export const handler = async (event) => {
  let x = 0;
  for (let i = 0; i < event.spin; i++) x = (x * 31 + i) | 0;
  return { ok: true, x };
};`;
export const SPIN_DEFAULT = 200_000;
