/**
 * One case of the compatibility suite (`npm run compat`): a handler zipped
 * exactly as for Lambda with real packages from test/compat/fixtures, run on
 * cellfn through the public API and, where Node can show the answer, in plain
 * Node 22. Adding a case = adding an entry to a file in test/compat/cases/
 * (every file there is loaded; each exports `cases`).
 */
import type { LoggingConfig } from "@aws-sdk/client-lambda";

export interface CompatCase {
  /** Unique, short: the matrix row. */
  name: string;
  /**
   * Fixture packages zipped into node_modules (with their dependencies).
   * "express5 as express" zips the fixture installed as `express5` (an npm
   * alias, for a second major version) under the name `express`.
   */
  packages?: string[];
  /** Environment variables, for the function and for the Node run. */
  environment?: Record<string, string>;
  /** The function's LoggingConfig (cellfn only). */
  logging?: LoggingConfig;
  /** The function's own files, e.g. { "index.js": "exports.handler = ..." }. */
  files: Record<string, string | Uint8Array>;
  handler?: string;
  runtime?: "nodejs20.x" | "nodejs22.x" | "nodejs24.x";
  /** The event; a function gets what the suite set up (a local HTTP server). */
  event?: Record<string, unknown> | unknown[] | ((ctx: CompatContext) => unknown);
  /**
   * How the answer is judged. "node": cellfn's payload must equal what plain
   * Node 22 returns for the same files and event. A function returns
   * undefined when the outcome is right, else what is wrong.
   */
  expect: "node" | ((outcome: Outcome, node: Outcome | undefined) => string | undefined);
  /** Also run the handler in Node (default: when expect is "node"). */
  runInNode?: boolean;
}

export interface CompatContext {
  /** A local HTTP server answering JSON: GET /json → { hello: "world" }. */
  httpUrl: string;
}

/** What an invocation gave: the parsed payload, and whether it was a function error. */
export interface Outcome {
  value: unknown;
  functionError?: string;
  /** cellfn only: the invocation's log tail (LogType Tail, last 4 KB). */
  log?: string;
}
