/**
 * Eval-free versions of the code generation in popular packages. A
 * function's code runs in a V8 isolate that refuses to compile code from
 * strings once its startup is over (workerd's `allow_eval_during_startup`
 * covers only the global scope, and a function's module code runs inside
 * its first request), so `eval` / `new Function` throw EvalError there.
 * Where a package generates code only for a cosmetic reason, the generated
 * function is replaced at bundle time by an equivalent closure:
 *
 * - `depd` (via express 4's body-parser, koa, http-errors, send): wraps a
 *   deprecated function in a generated one only so that the wrapper keeps
 *   the original's `length`; the closure sets `length` instead.
 *
 * Packages whose code generation is their purpose (Ajv's compiled
 * validators, Handlebars and lodash templates) cannot be rewritten; the
 * runtime reports them clearly (src/runtime/shim.js, codeGenerationError).
 */

interface Rewrite {
  /** Which files of the zip: the package's path inside node_modules. */
  file: RegExp;
  /** The generating expression, and what replaces it. */
  pattern: RegExp;
  replacement: string;
}

/** Returns a wrapper with the arguments' behaviour of depd's generated one (logs, then calls through). */
const DEPRECATED_HELPER =
  "function __cellfnDeprecated(fn, log, deprecate, message, site) { " +
  "var wrapped = function () { log.call(deprecate, message, site); return fn.apply(this, arguments); }; " +
  'Object.defineProperty(wrapped, "length", { value: fn.length }); Object.defineProperty(wrapped, "name", { value: "" }); return wrapped; }';

const REWRITES: readonly Rewrite[] = [
  {
    // depd 2.x: new Function('fn', 'log', 'deprecate', 'message', 'site', '"use strict"\n' + ...)(fn, log, this, message, site)
    file: /(?:^|\/)node_modules\/depd\/index\.js$/,
    pattern: /new Function\('fn', 'log', 'deprecate', 'message', 'site',[\s\S]*?\}'\)\(fn, log, this, message, site\)/,
    replacement: "__cellfnDeprecated(fn, log, this, message, site)",
  },
  {
    // depd 1.x: eval('(function (' + args + ') {\n' + ... + '})')
    file: /(?:^|\/)node_modules\/depd\/index\.js$/,
    pattern: /eval\('\(function \(' \+ args \+ '\) \{\\n' \+[\s\S]*?'\}\)'\)/,
    replacement: "__cellfnDeprecated(fn, log, deprecate, message, site)",
  },
];

/**
 * `text` (the file at `path` of the zip) with known code generation replaced.
 * Line numbers stay where they were: the replacement keeps the newlines it
 * removed, and the helper goes on the last line.
 */
export function withoutCodeGeneration(text: string, path: string): string {
  let out = text;
  let rewritten = false;
  for (const rewrite of REWRITES) {
    if (!rewrite.file.test(path)) continue;
    out = out.replace(rewrite.pattern, (match) => {
      rewritten = true;
      return rewrite.replacement + "\n".repeat(match.split("\n").length - 1);
    });
  }
  return rewritten ? `${out}\n${DEPRECATED_HELPER}\n` : text;
}
