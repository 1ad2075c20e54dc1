/**
 * The zip's files as the function reads them through `fs` under /var/task
 * (src/runtime/shim-fs.js): a table inlined in the bundle. Text stays text
 * (no growth); other bytes are base64. The JavaScript sources and docs of
 * node_modules are listed without their content: the bundle already has the
 * code, and packages do not read their own sources (reading one gives a
 * clear ENOTSUP). Everything else, the function's own files, templates,
 * certificates and every package's package.json and data files, is kept.
 */
import { Buffer } from "node:buffer";
import type { ZipFiles } from "./zip";

/** LAMBDA_TASK_ROOT: where the zip is unpacked in Lambda. */
export const TASK_ROOT = "/var/task";

/** Zip path → text, ["b64", base64] or null (listed, content not kept). */
export type TaskFileTable = Record<string, string | ["b64", string] | null>;

const PACKAGE_SOURCE = /\.(?:[cm]?[jt]sx?|d\.[cm]?ts|map|md|markdown|node)$|(?:^|\/)(?:LICEN[CS]E|README|CHANGELOG|HISTORY|AUTHORS)(?:\.\w+)?$/i;

export function taskFiles(files: ZipFiles): TaskFileTable {
  const table: TaskFileTable = {};
  const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  for (const [path, bytes] of files) {
    if (isPackageSource(path)) {
      table[path] = null;
      continue;
    }
    try {
      table[path] = utf8.decode(bytes);
    } catch {
      table[path] = ["b64", Buffer.from(bytes).toString("base64")];
    }
  }
  return table;
}

function isPackageSource(path: string): boolean {
  return (path.startsWith("node_modules/") || path.includes("/node_modules/")) && PACKAGE_SOURCE.test(path);
}
