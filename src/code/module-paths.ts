/**
 * What a module knows of its own place on disk, given per file at bundle
 * time, since the bundle is one module: CommonJS `__dirname`/`__filename`,
 * ES `import.meta.url`/`dirname`/`filename`/`resolve`, all under /var/task
 * (or /opt for a layer's files) as in Lambda; and `require.resolve("<literal>")`, answered with the path
 * Node would return; computed relative requires (src/code/computed-requires.ts). The preamble goes on the file's first line (after a
 * hashbang or "use strict"), so line numbers in stack traces do not move.
 */
import { builtinName, type NodeResolver } from "./node-resolve";
import { dirname } from "./handler-path";
import { rewriteComputedRequires } from "./computed-requires";
import { TASK_ROOT } from "./task-files";
import type { ZipFiles } from "./zip";

const IMPORT_META = /\bimport\.meta\b/g;
const REQUIRE_RESOLVE = /\brequire\.resolve\(\s*("[^"\\\n]*"|'[^'\\\n]*')\s*\)/g;
/** A file that declares its own __dirname/__filename (as ESM code often does) keeps it. */
const declares = (name: string, text: string) => new RegExp(`\\b(?:var|let|const|function)\\s+(?:[{[][^}\\]]*)?\\b${name}\\b`).test(text);

export function withModulePaths(source: string, path: string, resolver: NodeResolver, files: ZipFiles, root = TASK_ROOT): string {
  const filename = `${root}/${path}`;
  const dir = dirname(filename);
  const { text, helpers: preamble } = rewriteComputedRequires(source, path, files);
  if (/\b__filename\b/.test(text) && !declares("__filename", text)) preamble.push(`var __filename = ${JSON.stringify(filename)};`);
  if (/\b__dirname\b/.test(text) && !declares("__dirname", text)) preamble.push(`var __dirname = ${JSON.stringify(dir)};`);
  let body = text;
  if (IMPORT_META.test(body)) {
    const url = `file://${encodeURI(filename)}`;
    preamble.push(
      `var __cellfnImportMeta = { url: ${JSON.stringify(url)}, dirname: ${JSON.stringify(dir)}, ` +
        `filename: ${JSON.stringify(filename)}, resolve: (s) => new URL(s, ${JSON.stringify(url)}).href };`,
    );
    body = body.replace(IMPORT_META, "__cellfnImportMeta");
  }
  body = body.replace(REQUIRE_RESOLVE, (call: string, literal: string) => {
    const specifier = literal.slice(1, -1);
    if (builtinName(specifier) !== undefined) return JSON.stringify(specifier);
    try {
      const found = resolver.resolve(specifier, dirname(path), true);
      return found === undefined ? call : JSON.stringify(`${root}/${found}`);
    } catch {
      return call; // the run-time require.resolve throws as Node does
    }
  });
  if (preamble.length === 0) return body;
  const head = /^(?:#![^\n]*\n)?(?:\s*(["'])use strict\1;?)?/.exec(body)?.[0] ?? "";
  // `'use strict'` without its semicolon (pino's files) needs one before the preamble's `var`.
  const separator = /use strict["']$/.test(head) ? ";" : "";
  return head + separator + preamble.join(" ") + body.slice(head.length);
}
