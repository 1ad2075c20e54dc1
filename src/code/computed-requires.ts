/**
 * `require('./plugins/' + name)` and `import(`./locales/${lang}.js`)`: a
 * require or import whose path starts with a literal relative directory but
 * is computed at run time. Node resolves it against the files on disk when it
 * runs. esbuild would glob the directory itself, which its wasm build cannot
 * do ("Cannot read directory"), so each such call becomes a lookup in a table
 * of the zip's files under that directory, every one a static require
 * esbuild bundles; a path not in the table goes to the run-time require,
 * which throws Node's MODULE_NOT_FOUND.
 */
import { dirname } from "./handler-path";
import { join } from "./node-resolve";
import type { ZipFiles } from "./zip";

/** `require(` or `import(` followed by a string or template literal starting with ./ or ../ */
const COMPUTED_CALL = /\b(require|import)\(\s*(["'`])(\.{1,2}\/[^"'`$\\\n]*)/g;
const LOADABLE = /\.(?:[cm]?js|json|node)$/;
/** A directory with more files than this is left to the run-time require (keeps bundles bounded). */
const MAX_CANDIDATES = 500;

/** `text` with its computed relative requires/imports turned into table lookups (the helper is prepended by the caller). */
export function rewriteComputedRequires(text: string, path: string, files: ZipFiles): { text: string; helpers: string[] } {
  const helpers: string[] = [];
  let out = "";
  let last = 0;
  for (const match of text.matchAll(COMPUTED_CALL)) {
    const [whole, kind, quote, prefix] = match as unknown as [string, "require" | "import", string, string];
    const start = match.index;
    const end = closingParen(text, start + kind.length);
    if (end === undefined) continue;
    const argument = text.slice(start + kind.length + 1, end);
    // A plain literal is an ordinary require: esbuild handles it.
    if (isPlainLiteral(argument.trim(), quote)) continue;
    if (whole.length === 0) continue;
    const base = dirname(path);
    const dir = join(base, prefix.endsWith("/") ? prefix : dirname(prefix));
    const candidates = [...files.keys()].filter((file) => (dir === "" || file.startsWith(`${dir}/`)) && LOADABLE.test(file));
    if (candidates.length === 0 || candidates.length > MAX_CANDIDATES) continue;
    const name = `__cellfnComputed${helpers.length}`;
    const entries = candidates.map((file) => {
      const specifier = JSON.stringify(relativeSpecifier(base, file));
      return `${JSON.stringify(file)}: () => ${kind === "require" ? `require(${specifier})` : `import(${specifier})`}`;
    });
    helpers.push(
      `var ${name} = (p) => { const t = {${entries.join(", ")}}; const k = __cellfnJoin(${JSON.stringify(base)}, p); ` +
        `for (const c of [k, k + ".js", k + ".json", k + ".cjs", k + ".mjs", k + ".node", k + "/index.js", k + "/index.json"]) if (t[c]) return t[c](); ` +
        `return ${kind === "require" ? "require(p)" : "Promise.reject(Object.assign(new Error(\"Cannot find module '\" + p + \"'\"), { code: \"ERR_MODULE_NOT_FOUND\" }))"}; };`,
    );
    out += `${text.slice(last, start)}${name}(${argument})`;
    last = end + 1;
  }
  if (helpers.length === 0) return { text, helpers };
  helpers.unshift(
    'var __cellfnJoin = (b, p) => { const o = b === "" ? [] : b.split("/"); for (const s of String(p).split("/")) { if (s === "" || s === ".") continue; if (s === "..") o.pop(); else o.push(s); } return o.join("/"); };',
  );
  return { text: out + text.slice(last), helpers };
}

/** Index of the `)` closing the call whose `(` is at `open`, skipping strings and nested brackets. */
function closingParen(text: string, open: number): number | undefined {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'" || c === "`") {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === "\\") i++;
    } else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      depth--;
      if (depth === 0) return c === ")" ? i : undefined;
    } else if (c === "\n" && depth === 1 && i - open > 500) return undefined;
  }
  return undefined;
}

function isPlainLiteral(argument: string, quote: string): boolean {
  if (quote === "`") return /^`[^`$]*`$/.test(argument);
  return argument.length >= 2 && argument.endsWith(quote) && !argument.slice(1, -1).includes(quote);
}

function relativeSpecifier(fromDir: string, file: string): string {
  const from = fromDir === "" ? [] : fromDir.split("/");
  const to = file.split("/");
  let common = 0;
  while (common < from.length && common < to.length - 1 && from[common] === to[common]) common++;
  const up = from.length - common;
  return (up === 0 ? "./" : "../".repeat(up)) + to.slice(common).join("/");
}
