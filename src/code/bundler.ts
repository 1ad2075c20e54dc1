/**
 * Bundles a handler module and everything it imports from the zip into ONE
 * ES module, once at upload time, with esbuild-wasm running in this Worker.
 * The result is loaded as `handler.js` next to the runtime shim
 * (src/runtime/shim.js), so invoke never bundles.
 *
 * None of the function's own code runs when `handler.js` is evaluated. workerd
 * evaluates modules in global scope, where generating random values, timers
 * and I/O are disallowed, yet a Lambda handler's module-level code (its init
 * phase) does exactly that: `crypto.randomUUID()`, SDK clients, `await`ed
 * configuration. So the bundle's entry is a small virtual module,
 *
 *     export const __cellfnLoad = () => import("<the handler module>");
 *
 * and esbuild, bundling a dynamically imported module without code
 * splitting, turns every module of the zip into a lazy initialiser: CommonJS
 * ones into `__commonJS` wrappers, ES modules into `__esm` wrappers, `async`
 * ones where the module (or one it imports) uses top-level await. Only the
 * `import * as x from "node:x"` of built-ins stay at the top of the bundle.
 * The shim calls `__cellfnLoad()` inside its init() request: that is the
 * init phase, and it resolves to what Node would load, module.exports of a
 * CommonJS module (as `default`: the virtual entry is a `.mjs` file, so
 * esbuild uses Node's interop, not Babel's `__esModule` one) or the
 * namespace of an ES module.
 */
import type { Message, Metafile, OnLoadResult, OnResolveArgs, OnResolveResult, Plugin } from "esbuild-wasm/esm/browser.js";
import { invalidParameter } from "../errors";
import { COMMONJS_MARKER, LOAD_EXPORT, NEEDS_EXPORT } from "../runtime/markers";
import { getEsbuild } from "./esbuild";
import { PLATFORM_SDK } from "./platform-sdk.generated";
import { platformSdkBuiltins, platformSdkModule } from "./platform-modules";
import { dirname, type HandlerModule } from "./handler-path";
import { withModulePaths } from "./module-paths";
import { type CodeLayers, NO_LAYERS, OPT_ROOT } from "./layers";
import { findModule, OPT, shownPath, sourceOf, type Tree, type Trees, ZIP } from "./module-trees";
import { withoutCodeGeneration } from "./eval-free";
import { builtinName, NodeResolver, ResolveError } from "./node-resolve";
import { TASK_ROOT, taskFiles } from "./task-files";
import type { ZipFiles } from "./zip";

/*
 * COMMONJS_MARKER is appended to the bundle when the handler module is
 * CommonJS: the module `__cellfnLoad()` (LOAD_EXPORT) resolves to then has
 * module.exports as its `default`, while an ES module's `default` is just one
 * more export; the shim needs to know which it has to walk the handler's
 * property path as Node would.
 */

/** esbuild namespaces: the virtual entry and the two wrappers around Node built-ins (zip and layer files: module-trees.ts). */
const ENTRY = "cellfn";

const BUILTIN_ESM = "node-builtin";
const BUILTIN_CJS = "node-builtin-cjs";
/** A module Node would not find: it throws MODULE_NOT_FOUND when (and only if) it is loaded. */
const MISSING = "missing";
/** The preinstalled AWS SDK (src/code/platform-sdk.generated.ts), for what the zip does not ship. */
const PLATFORM = "platform-sdk";
/** Specifier of a preinstalled package's module beside handler.js (external to the bundle). */
const PLATFORM_PREFIX = "cellfn-platform:";
/**
 * Specifiers of the runtime's own modules next to handler.js in the Dynamic
 * Worker (src/runtime/shim-files.js, shim-fs.js, shim-modules.js), as the bundle's plugin
 * modules write them; they stay external imports of those files.
 */
const RUNTIME_PREFIX = "cellfn-runtime:";
const RUNTIME_MODULES: ReadonlySet<string> = new Set(["shim-files.js", "shim-fs.js", "shim-modules.js"]);
/** What `fs/promises` exports (Node 22), taken from shim-fs.js's `promises`. */
const FS_PROMISES_NAMES = [
  "access", "appendFile", "chmod", "chown", "copyFile", "cp", "lchown", "link", "lstat", "lutimes", "mkdir", "mkdtemp",
  "open", "opendir", "readdir", "readFile", "readlink", "realpath", "rename", "rm", "rmdir", "stat", "statfs",
  "symlink", "truncate", "unlink", "utimes", "watch", "writeFile", "constants",
];

/**
 * Bundles `entry` (found by findHandlerModule) and returns the module's
 * source. Throws InvalidParameterValueException with esbuild's first error
 * (file:line:column) for syntax errors and unresolvable imports.
 */
export async function bundleHandler(files: ZipFiles, entry: HandlerModule, layers: CodeLayers = NO_LAYERS): Promise<string> {
  const esbuild = await getEsbuild();
  let result;
  try {
    result = await esbuild.build({
      entryPoints: [`${ENTRY}:entry.mjs`],
      bundle: true,
      write: false,
      format: "esm",
      platform: "node",
      target: "es2022",
      // Readable stack traces matter more than bytes here.
      minify: false,
      metafile: true,
      logLevel: "silent",
      plugins: [zipPlugin(files, entry, layers)],
    });
  } catch (error) {
    throw invalidParameter(`Could not bundle the handler module '${entry.path}': ${describeFailure(error)}`);
  }
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild produced no output for ${entry.path}`);
  const asyncRequire = requireOfAsyncModule((key) => sourceOf(files, layers, key), result.metafile, output.text);
  if (asyncRequire !== undefined) {
    throw invalidParameter(`Could not bundle the handler module '${entry.path}': ${asyncRequire}`);
  }
  const commonJS = result.metafile.inputs[`${ZIP}:${entry.path}`]?.format === "cjs";
  const needs = `export const ${NEEDS_EXPORT} = ${JSON.stringify(runtimeNeeds(result.metafile, output.text, platformSdkBuiltins))};\n`;
  return `${output.text}${needs}${commonJS ? `export const ${COMMONJS_MARKER} = true;\n` : ""}`;
}

/**
 * What the runtime must prepare before the function's code runs (NEEDS_EXPORT,
 * read by src/runtime/shim.js): the Node built-ins the bundle imports, and
 * whether it calls require() at run time: esbuild routes every require() it
 * could not bundle through its `__require` helper, defined at the top level
 * only then (the zip's file table cannot match: it is one line of JSON). The
 * shim leaves every other built-in unevaluated, most of a cold start's runtime cost.
 */
const BUILTIN_INPUT = new RegExp(`^(?:${BUILTIN_ESM}|${BUILTIN_CJS}):(.+)$`);
export function runtimeNeeds(
  metafile: Metafile,
  text: string,
  moduleBuiltins: (name: string) => string[] = () => [],
): { builtins: string[]; require: boolean } {
  const builtins = new Set<string>();
  for (const key of Object.keys(metafile.inputs)) {
    const match = BUILTIN_INPUT.exec(key);
    if (match) builtins.add(match[1]!);
    // A preinstalled package imports its built-ins itself (node:x, outside the bundle).
    if (key.startsWith(`${PLATFORM}:`)) for (const name of moduleBuiltins(key.slice(PLATFORM.length + 1))) builtins.add(name);
  }
  return { builtins: [...builtins].sort(), require: /^var __require = /m.test(text) };
}

/**
 * `require()` of an ES module that uses top-level await (itself or through
 * its imports) cannot work: Node.js throws ERR_REQUIRE_ASYNC_MODULE, and
 * esbuild would silently return the module's exports before they are set.
 * esbuild reports no such error, but it marks these modules: their lazy
 * initialiser is `async "<namespace>:<path>"() {`. Returns the message for
 * the first such require() (file:line:column, as esbuild's own errors), or
 * undefined.
 */
function requireOfAsyncModule(source: (key: string) => Uint8Array | undefined, metafile: Metafile, text: string): string | undefined {
  const asyncModules = new Set<string>();
  for (const [, key] of text.matchAll(/^ {2}async ("(?:[^"\\\n]|\\.)*")\(\) \{$/gm)) {
    try {
      asyncModules.add(JSON.parse(key as string) as string);
    } catch {
      // Not a JSON-compatible string literal: not one of our zip paths.
    }
  }
  if (asyncModules.size === 0) return undefined;
  for (const [importer, input] of Object.entries(metafile.inputs)) {
    for (const { path, kind, original } of input.imports) {
      if (kind !== "require-call" || !asyncModules.has(path)) continue;
      const file = shownPath(importer);
      const required = original ?? path;
      return (
        `${file}${locate(source(importer), required)}: require("${required}") loads ${shownPath(path)}, ` +
        "an ES module that uses top-level await (itself or in a module it imports), which require() cannot load " +
        "(Node.js throws ERR_REQUIRE_ASYNC_MODULE). Load it with `await import()` instead, or move the awaited " +
        "initialisation into a function, e.g. cache a promise in a module variable and await it in the handler"
      );
    }
  }
  return undefined;
}

/** ":line:column" of the first quoted occurrence of `specifier` in `source`, or "" when not found. */
function locate(source: Uint8Array | undefined, specifier: string): string {
  if (source === undefined) return "";
  const text = new TextDecoder().decode(source);
  const at = ["\"", "'", "`"].map((quote) => text.indexOf(`${quote}${specifier}${quote}`)).filter((i) => i >= 0);
  if (at.length === 0) return "";
  const index = Math.min(...at);
  const before = text.slice(0, index).split("\n");
  return `:${before.length}:${(before.at(-1) ?? "").length}`;
}

/**
 * Resolves and loads everything from the zip, and turns Node built-ins into
 * imports the Worker runtime (nodejs_compat) provides.
 *
 * Why the built-in wrappers: in ESM output esbuild turns `require()` of an
 * external module into a `__require` shim that throws at run time, so only
 * `node:` imports may stay external. `require("events")` therefore loads a
 * CommonJS wrapper whose module.exports is the built-in's default export,
 * which is what Node's require returns (e.g. the EventEmitter class itself,
 * not a namespace object). Imports of built-ins get an ES wrapper that also
 * provides a default export for modules without one (`node:process`).
 */
function zipPlugin(files: ZipFiles, entry: HandlerModule, layers: CodeLayers): Plugin {
  const trees: Trees = {
    task: { namespace: ZIP, root: TASK_ROOT, files, resolver: new NodeResolver(files) },
    opt: { namespace: OPT, root: OPT_ROOT, files: layers.opt, resolver: new NodeResolver(layers.opt, { root: OPT_ROOT, rootOnNodePath: false }) },
    nodePath: layers.nodePath,
  };
  return {
    name: "cellfn-zip",
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => resolve(trees, entry, args));
      build.onLoad({ filter: /.*/, namespace: ENTRY }, () => ({
        // shim-modules.js first: the global require and the cwd exist before any module of the zip runs.
        // The zip's and the layers' files are registered for fs (evaluating this runs none of the function's code).
        // The specifier "handler-module" is irrelevant: resolve() maps it to the handler module.
        contents:
          `import "${RUNTIME_PREFIX}shim-modules.js";\nimport { setTaskFiles } from "${RUNTIME_PREFIX}shim-files.js";\n` +
          `setTaskFiles(() => (${JSON.stringify(taskFiles(files))}), () => (${JSON.stringify(taskFiles(layers.opt))}));\n` +
          `export const ${LOAD_EXPORT} = () => import("handler-module");\n`,
        loader: "js",
        resolveDir: "/",
      }));
      build.onLoad({ filter: /.*/, namespace: ZIP }, ({ path }) => loadFromTree(trees.task, path));
      build.onLoad({ filter: /.*/, namespace: OPT }, ({ path }) => loadFromTree(trees.opt, path));
      build.onLoad({ filter: /.*/, namespace: MISSING }, ({ path }) => missingModule(path));
      // The platform's copy stays a module of its own next to handler.js (platformSdkModules):
      // shared by every function, minified, never stored in the function's bundle.
      build.onLoad({ filter: /.*/, namespace: PLATFORM }, ({ path }) => ({ contents: `export * from "${PLATFORM_PREFIX}${path}";\n`, loader: "js", resolveDir: "/" }));
      build.onLoad({ filter: /.*/, namespace: BUILTIN_ESM }, ({ path }) => ({ contents: builtinWrapper(path), loader: "js", resolveDir: "/" }));
      build.onLoad({ filter: /.*/, namespace: BUILTIN_CJS }, ({ path }) => ({
        contents: `module.exports = require("${path}").default;\n`,
        loader: "js",
        resolveDir: "/",
      }));
    },
  };
}

function resolve(trees: Trees, entry: HandlerModule, args: OnResolveArgs): OnResolveResult {
  const { path: specifier, kind, namespace } = args;
  if (specifier.startsWith(RUNTIME_PREFIX) && RUNTIME_MODULES.has(specifier.slice(RUNTIME_PREFIX.length))) {
    return { path: `./${specifier.slice(RUNTIME_PREFIX.length)}`, external: true };
  }
  if (specifier.startsWith(PLATFORM_PREFIX)) return { path: `./${platformSdkModule(specifier.slice(PLATFORM_PREFIX.length))}`, external: true };
  if (kind === "entry-point") return { path: specifier.slice(`${ENTRY}:`.length), namespace: ENTRY };
  if (namespace === ENTRY) return { path: entry.path, namespace: ZIP };
  // Inside the wrappers: the real built-in, and the CJS wrapper's ES wrapper.
  if (namespace === BUILTIN_ESM) return { path: specifier, external: true };
  if (namespace === BUILTIN_CJS) return { path: specifier, namespace: BUILTIN_ESM };

  const builtin = builtinName(specifier);
  if (builtin !== undefined) {
    // require.resolve() is not bundled; its result is irrelevant here.
    if (kind === "require-resolve") return { path: specifier, external: true };
    return { path: builtin, namespace: kind === "require-call" ? BUILTIN_CJS : BUILTIN_ESM };
  }

  const require = kind === "require-call" || kind === "require-resolve";
  const own = namespace === OPT ? trees.opt : trees.task;
  try {
    const found = findModule(trees, own, specifier, args.resolveDir.replace(/^\/+/, ""), require);
    if (found !== undefined) return { path: found.path, namespace: found.tree.namespace };
  } catch (error) {
    if (error instanceof ResolveError) return { errors: [{ text: error.message }] };
    throw error;
  }
  // Lambda preinstalls the AWS SDK v3 (NODE_PATH ends in /var/runtime/node_modules): a copy
  // in the zip wins, as there, since it was found above.
  if (Object.hasOwn(PLATFORM_SDK, specifier)) return { path: specifier, namespace: PLATFORM };
  // Node fails a require() or import() only when it runs: optional dependencies in try/catch
  // (debug → supports-color, pg → pg-native) must not refuse the upload. A static import
  // fails the module's linking in Node, so it still refuses it here.
  if (kind === "require-call" || kind === "dynamic-import") {
    const importer = args.importer.replace(/^\/+/, "");
    return { path: JSON.stringify([specifier, importer, kind]), namespace: MISSING };
  }
  return { errors: [{ text: `Could not resolve "${specifier}"${missingHint(specifier)}` }] };
}

function missingModule(path: string): OnLoadResult {
  const [specifier, importer, kind] = JSON.parse(path) as [string, string, string];
  const make = kind === "dynamic-import" ? "esmNotFound" : "moduleNotFound";
  return {
    contents:
      `import { ${make} } from "${RUNTIME_PREFIX}shim-modules.js";\n` +
      `throw ${make}(${JSON.stringify(specifier)}, ${JSON.stringify(importer)});\n`,
    loader: "js",
    resolveDir: "/",
  };
}

/**
 * ES wrapper of a built-in. `fs` and `fs/promises` are the runtime's own
 * (src/runtime/shim-fs.js: /var/task and a /tmp that outlives a request).
 */
function builtinWrapper(name: string): string {
  if (name === "fs") {
    return `import fs from "${RUNTIME_PREFIX}shim-fs.js";\nexport * from "${RUNTIME_PREFIX}shim-fs.js";\nexport default fs;\n`;
  }
  if (name === "fs/promises") {
    return (
      `import { promises } from "${RUNTIME_PREFIX}shim-fs.js";\n` +
      `export const { ${FS_PROMISES_NAMES.join(", ")} } = promises;\nexport default promises;\n`
    );
  }
  return (
    `import * as ns from "node:${name}";\nexport * from "node:${name}";\n` +
    // Reflect keeps esbuild from turning this into a static `default` import.
    `export default Reflect.has(ns, "default") ? Reflect.get(ns, "default") : ns;\n`
  );
}

function loadFromTree(tree: Tree, path: string): OnLoadResult {
  const contents = tree.files.get(path);
  if (contents === undefined) return { errors: [{ text: `${path} is not in the ${tree.namespace === OPT ? "layers" : "zip"}` }] };
  // esbuild wants an absolute-looking directory; resolve() strips the slash.
  const resolveDir = `/${dirname(path)}`;
  if (path.endsWith(".node")) {
    // Accepted at upload, as Lambda does; loading it fails with a message that says why.
    const thrower = `import { nativeAddon } from "${RUNTIME_PREFIX}shim-modules.js";\nthrow nativeAddon(${JSON.stringify(`${tree.root}/${path}`)});\n`;
    return { contents: thrower, loader: "js", resolveDir };
  }
  if (path.endsWith(".json")) return { contents, loader: "json", resolveDir };
  const text = withoutCodeGeneration(new TextDecoder().decode(contents), path);
  return { contents: withModulePaths(text, path, tree.resolver, tree.files, tree.root), loader: "js", resolveDir };
}

/** What to fix when a package is missing, for the usual reasons it is. */
function missingHint(specifier: string): string {
  if (specifier.startsWith("@aws-sdk/") || specifier === "aws-sdk") {
    const offered = Object.keys(PLATFORM_SDK).join(", ") || "none";
    return ` (cellfn preinstalls these AWS SDK v3 packages: ${offered}; any other must be in the zip's node_modules)`;
  }
  if (/^\.\.?(\/|$)/.test(specifier)) return " (no such file in the zip)";
  return " (is the package in the zip's node_modules?)";
}

/** esbuild's first error as `file:line:column: text`, for the API error message. */
function describeFailure(error: unknown): string {
  const errors = isBuildFailure(error) ? error.errors : [];
  const first = errors[0];
  if (first === undefined) return error instanceof Error ? error.message : String(error);
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? "s" : ""})` : "";
  return `${formatMessage(first)}${more}`;
}

function formatMessage({ text, location }: Message): string {
  if (location === null) return text;
  const file = location.file.replace(/^[\w-]+:/, "");
  return `${file}:${location.line}:${location.column}: ${text}`;
}

function isBuildFailure(error: unknown): error is { errors: Message[] } {
  return typeof error === "object" && error !== null && "errors" in error && Array.isArray(error.errors);
}
