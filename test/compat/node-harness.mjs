// Runs one handler in plain Node, as the Lambda runtime would load it, and
// prints { value, functionError? } as JSON on stdout. Used by test/compat/runner.ts.
//   node node-harness.mjs <dir> <handler> <event JSON>
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [dir, handler, eventText] = process.argv.slice(2);
const OUTCOME_MARK = "@@cellfn-compat-outcome@@";
process.chdir(dir);
const base = handler.slice(0, handler.indexOf("."));
const property = handler.slice(handler.indexOf(".") + 1).split(".");
const file = ["", ".js", ".mjs", ".cjs"].map((ext) => path.join(dir, base + ext)).find((f) => existsSync(f));
// Marked, so a logger's own lines on stdout (pino writes after the handler returns) are not taken for it.
const print = (outcome) => process.stdout.write("\n" + OUTCOME_MARK + JSON.stringify(outcome) + "\n");
try {
  const module = await import(pathToFileURL(file).href);
  let fn = file.endsWith(".mjs") ? module : module.default ?? module;
  for (const key of property) fn = fn[key];
  const value = await fn(JSON.parse(eventText), { awsRequestId: "node", getRemainingTimeInMillis: () => 3000 });
  print({ value: value === undefined ? null : value });
} catch (error) {
  print({ value: { errorType: error?.name ?? typeof error, errorMessage: String(error?.message ?? error) }, functionError: "Unhandled" });
}
// Let a logger flush what it buffered, as the process would before Lambda freezes it.
setTimeout(() => process.exit(0), 50);
