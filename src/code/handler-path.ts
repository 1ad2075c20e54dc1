/**
 * The `Handler` setting, interpreted as the Lambda Node.js runtime interface
 * client does (aws-lambda-nodejs-runtime-interface-client, UserFunction.js):
 *
 *   "src/app.handlers.main"  →  directory "src", module "app",
 *                               property path ["handlers", "main"]
 *
 * The directory part is relative to the function root; the base name splits
 * at its FIRST dot into module name and property path. Pure functions only:
 * no I/O, the zip's files are passed in.
 */
import type { ZipFiles } from "./zip";

export interface ParsedHandler {
  /** The handler string as configured. */
  handler: string;
  /** Directory of the module relative to the root, "" for the root itself. */
  moduleDir: string;
  /** Module name without extension, e.g. "app". */
  moduleName: string;
  /** `moduleDir/moduleName`, the path the runtime appends extensions to. */
  modulePath: string;
  /** Properties walked from the module's exports, e.g. ["handlers", "main"]. */
  propertyPath: string[];
}

export type HandlerParseResult =
  | { ok: true; value: ParsedHandler }
  | { ok: false; errorType: "Runtime.MalformedHandlerName"; errorMessage: string };

/** The runtime's LAMBDA_TASK_ROOT: an absolute handler under it is equivalent to a relative one. */
const TASK_ROOT = "/var/task/";

const malformed = (errorMessage: string): HandlerParseResult => ({
  ok: false,
  errorType: "Runtime.MalformedHandlerName",
  errorMessage,
});

export function parseHandler(handler: string): HandlerParseResult {
  // The runtime refuses any "..", not just path segments (RELATIVE_PATH_SUBSTRING).
  if (handler.includes("..")) {
    return malformed(
      `'${handler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  let relative = handler.startsWith(TASK_ROOT) ? handler.slice(TASK_ROOT.length) : handler;
  if (relative.startsWith("/")) {
    return malformed(`'${handler}' is not a valid handler name: the path must be relative to the root of the zip.`);
  }
  relative = relative.replace(/^(\.\/)+/, "");

  const slash = relative.lastIndexOf("/");
  const base = relative.slice(slash + 1);
  const dir = slash < 0 ? "" : relative.slice(0, slash);
  // FUNCTION_EXPR = /^([^.]*)\.(.*)$/ in the runtime: split at the first dot.
  const dot = base.indexOf(".");
  if (dot < 0) return malformed("Bad handler");
  const moduleName = base.slice(0, dot);
  const propertyPath = base.slice(dot + 1).split(".");
  // The runtime would accept these and fail later at invoke; saying so now is kinder.
  if (moduleName === "") return malformed(`'${handler}' is not a valid handler name: the module name is empty.`);
  if (propertyPath.includes("")) {
    return malformed(`'${handler}' is not a valid handler name: the exported name after the module is empty.`);
  }

  const moduleDir = dir
    .split("/")
    .filter((part) => part !== "" && part !== ".")
    .join("/");
  const modulePath = moduleDir === "" ? moduleName : `${moduleDir}/${moduleName}`;
  return { ok: true, value: { handler, moduleDir, moduleName, modulePath, propertyPath } };
}

/** How Node loads a file: `require` (CommonJS) or `import` (ES module). */
export type ModuleFormat = "commonjs" | "module";

export interface HandlerModule {
  /** Path of the module file inside the zip. */
  path: string;
  format: ModuleFormat;
}

/** The files the runtime tries for `modulePath`, in order (for error messages too). */
export function moduleCandidates(modulePath: string): string[] {
  return [modulePath, `${modulePath}.js`, `${modulePath}.mjs`, `${modulePath}.cjs`];
}

/**
 * The runtime's lookup order (`_tryRequire`): the extensionless file
 * (required), `.js` (required, or imported when the nearest package.json
 * says "type": "module"), `.mjs` (imported), `.cjs` (required). Returns the
 * first that exists, or undefined.
 */
export function findHandlerModule(files: ZipFiles, modulePath: string): HandlerModule | undefined {
  const [bare, js, mjs, cjs] = moduleCandidates(modulePath);
  if (bare !== undefined && files.has(bare)) return { path: bare, format: "commonjs" };
  if (js !== undefined && files.has(js)) return { path: js, format: nearestPackageType(files, dirname(js)) };
  if (mjs !== undefined && files.has(mjs)) return { path: mjs, format: "module" };
  if (cjs !== undefined && files.has(cjs)) return { path: cjs, format: "commonjs" };
  return undefined;
}

/**
 * Node's rule for `.js` files (`_hasFolderPackageJsonTypeModule`): the
 * nearest package.json at or above `dir` decides; the search stops at a
 * `node_modules` directory and at the root. An unreadable package.json
 * counts as CommonJS, as the runtime ignores it with a warning.
 */
export function nearestPackageType(files: ZipFiles, dir: string): ModuleFormat {
  let current = dir;
  for (;;) {
    if (current === "node_modules" || current.endsWith("/node_modules")) return "commonjs";
    const manifest = files.get(current === "" ? "package.json" : `${current}/package.json`);
    if (manifest !== undefined) return packageType(manifest);
    if (current === "") return "commonjs";
    current = dirname(current);
  }
}

function packageType(manifest: Uint8Array): ModuleFormat {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(manifest));
    const isModule =
      typeof parsed === "object" && parsed !== null && "type" in parsed && parsed.type === "module";
    return isModule ? "module" : "commonjs";
  } catch {
    return "commonjs";
  }
}

/** `a/b/c.js` → `a/b`; `c.js` → "". */
export function dirname(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}
