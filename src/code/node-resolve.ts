/**
 * Node.js module resolution over the in-memory files of a zip, so the
 * bundle contains what `require`/`import` would load in the Lambda runtime
 * (https://nodejs.org/api/modules.html#all-together). Paths are zip paths:
 * no leading slash, "" is the function root (/var/task in Lambda).
 */
import { exports as exportsTarget, imports as importsTarget, type Package } from "resolve.exports";
import { dirname } from "./handler-path";
import type { ZipFiles } from "./zip";

/** Node 22's `require("module").builtinModules`, minus the internal `_`-prefixed ones. */
const NODE_BUILTINS: ReadonlySet<string> = new Set([
  "assert", "assert/strict", "async_hooks", "buffer", "child_process", "cluster", "console", "constants",
  "crypto", "dgram", "diagnostics_channel", "dns", "dns/promises", "domain", "events", "fs", "fs/promises",
  "http", "http2", "https", "inspector", "inspector/promises", "module", "net", "os", "path", "path/posix",
  "path/win32", "perf_hooks", "process", "punycode", "querystring", "readline", "readline/promises", "repl",
  "stream", "stream/consumers", "stream/promises", "stream/web", "string_decoder", "sys", "timers",
  "timers/promises", "tls", "trace_events", "tty", "url", "util", "util/types", "v8", "vm", "wasi",
  "worker_threads", "zlib",
]);

/** `node:fs`, `fs` and `fs/promises` name built-ins (returned without `node:`); anything else → undefined. */
export function builtinName(specifier: string): string | undefined {
  if (specifier.startsWith("node:")) return specifier.slice("node:".length);
  return NODE_BUILTINS.has(specifier) ? specifier : undefined;
}

/** Thrown where Node itself throws rather than trying further locations. */
export class ResolveError extends Error {}

/** LOAD_AS_FILE suffixes: Node's `.js`/`.json`/`.node`, plus `.mjs`/`.cjs` as bundlers allow. */
const FILE_SUFFIXES = ["", ".js", ".json", ".mjs", ".cjs", ".node"];
const INDEX_FILES = ["index.js", "index.json", "index.mjs", "index.cjs", "index.node"];

/** Where a tree of files is mounted: the zip at /var/task, the merged layers at /opt. */
export interface TreeOptions {
  root: string;
  /** Lambda's NODE_PATH ends with /var/task: bare `require("lib/db")` may find /var/task/lib/db.js. */
  rootOnNodePath: boolean;
}

const TASK_TREE: TreeOptions = { root: "/var/task", rootOnNodePath: true };

export class NodeResolver {
  private readonly manifests = new Map<string, Package | null>();

  constructor(
    private readonly files: ZipFiles,
    private readonly tree: TreeOptions = TASK_TREE,
  ) {}

  /**
   * The zip path `specifier` resolves to from a module in `fromDir`, or
   * undefined when Node would report "Cannot find module". `require` picks
   * the "require" rather than the "import" condition of `exports` maps.
   */
  resolve(specifier: string, fromDir: string, require: boolean): string | undefined {
    return this.resolveLocal(specifier, fromDir, require) ?? this.rootFallback(specifier, require);
  }

  /** Everything Node tries before NODE_PATH: the tree's own paths, `#imports`, the package itself, node_modules walking up. */
  resolveLocal(specifier: string, fromDir: string, require: boolean): string | undefined {
    const rootPrefix = `${this.tree.root}/`;
    if (specifier.startsWith(rootPrefix)) return this.fileOrDirectory(join("", specifier.slice(rootPrefix.length)));
    if (specifier.startsWith("/")) return undefined; // outside this tree: nothing here
    if (/^\.\.?(\/|$)/.test(specifier)) return this.fileOrDirectory(join(fromDir, specifier));
    if (specifier.startsWith("#")) return this.packageImports(specifier, fromDir, require);
    return this.packageSelf(specifier, fromDir, require) ?? this.nodeModules(specifier, fromDir, require);
  }

  /** NODE_PATH's entry for this tree's root (require only, not import, as NODE_PATH in Node). */
  rootFallback(specifier: string, require: boolean): string | undefined {
    if (!this.tree.rootOnNodePath || !require || /^(?:\.\.?(?:\/|$)|\/|#)/.test(specifier)) return undefined;
    return this.fileOrDirectory(join("", specifier));
  }

  /** A bare specifier looked up in NODE_PATH directories of this tree (`nodejs/node_modules` of /opt), in order. */
  fromDirectories(specifier: string, dirs: readonly string[], require: boolean): string | undefined {
    if (/^(?:\.\.?(?:\/|$)|\/|#)/.test(specifier)) return undefined;
    const { name, subpath } = splitPackageSpecifier(specifier);
    for (const dir of dirs) {
      const found = this.inPackageDir(join(dir, name), subpath, require);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  private fileOrDirectory(path: string): string | undefined {
    return this.file(path) ?? this.directory(path);
  }

  private file(path: string): string | undefined {
    return FILE_SUFFIXES.map((suffix) => path + suffix).find((candidate) => this.files.has(candidate));
  }

  private index(dir: string): string | undefined {
    return INDEX_FILES.map((name) => join(dir, name)).find((candidate) => this.files.has(candidate));
  }

  /** LOAD_AS_DIRECTORY: package.json `main` (then `module`, as bundlers do), then index files. */
  private directory(dir: string): string | undefined {
    const manifest = this.manifest(dir);
    for (const field of [manifest?.main, manifest?.module]) {
      if (typeof field !== "string" || field === "") continue;
      const target = join(dir, field);
      const found = this.file(target) ?? this.index(target);
      if (found !== undefined) return found;
    }
    return this.index(dir);
  }

  /** LOAD_NODE_MODULES: `node_modules/<name>` in `fromDir` and each parent directory. */
  private nodeModules(specifier: string, fromDir: string, require: boolean): string | undefined {
    const { name, subpath } = splitPackageSpecifier(specifier);
    for (let dir = fromDir; ; dir = dirname(dir)) {
      if (!(dir === "node_modules" || dir.endsWith("/node_modules"))) {
        const found = this.inPackageDir(join(dir, `node_modules/${name}`), subpath, require);
        if (found !== undefined) return found;
      }
      if (dir === "") return undefined;
    }
  }

  /** A package's directory: its `exports` when it has them, else the file or directory at `subpath`. */
  private inPackageDir(packageDir: string, subpath: string, require: boolean): string | undefined {
    const manifest = this.manifest(packageDir);
    return manifest?.exports !== undefined
      ? this.exported(manifest, packageDir, subpath, require)
      : this.fileOrDirectory(join(packageDir, subpath));
  }

  /** LOAD_PACKAGE_SELF: a package importing itself by name through its own `exports`. */
  private packageSelf(specifier: string, fromDir: string, require: boolean): string | undefined {
    const scope = this.scope(fromDir);
    if (scope === undefined || scope.manifest.exports === undefined) return undefined;
    const { name, subpath } = splitPackageSpecifier(specifier);
    if (scope.manifest.name !== name) return undefined;
    return this.exported(scope.manifest, scope.dir, subpath, require);
  }

  /** LOAD_PACKAGE_IMPORTS: `#name` through the nearest package.json's `imports`. */
  private packageImports(specifier: string, fromDir: string, require: boolean): string | undefined {
    const scope = this.scope(fromDir);
    if (scope === undefined) return undefined;
    let targets: string[] | void;
    try {
      targets = importsTarget(scope.manifest, specifier, { require });
    } catch {
      throw new ResolveError(`"${specifier}" is not defined by "imports" in ${join(scope.dir, "package.json")}`);
    }
    const [target] = targets ?? [];
    if (target === undefined) return undefined;
    // A target is either a path inside the package or another package's name.
    return target.startsWith("./")
      ? this.existing(join(scope.dir, target), specifier)
      : this.resolve(target, scope.dir, require);
  }

  /** PACKAGE_EXPORTS_RESOLVE with conditions node, import|require, default. */
  private exported(manifest: Package, packageDir: string, subpath: string, require: boolean): string {
    const entry = subpath === "" ? "." : `./${subpath}`;
    let targets: string[] | void;
    try {
      targets = exportsTarget(manifest, entry, { require });
    } catch {
      throw new ResolveError(
        `Package subpath '${entry}' is not defined by "exports" in ${join(packageDir, "package.json")}`,
      );
    }
    const [target] = targets ?? [];
    if (target === undefined) throw new ResolveError(`No "exports" target for '${entry}' in ${packageDir}`);
    return this.existing(join(packageDir, target), entry);
  }

  private existing(path: string, requested: string): string {
    if (this.files.has(path)) return path;
    throw new ResolveError(`'${requested}' maps to ${path}, which is not in the zip`);
  }

  /** The nearest package.json at or above `dir` (its "package scope"). */
  private scope(dir: string): { dir: string; manifest: Package } | undefined {
    for (let current = dir; ; current = dirname(current)) {
      const manifest = this.manifest(current);
      if (manifest !== undefined) return { dir: current, manifest };
      if (current === "") return undefined;
    }
  }

  private manifest(dir: string): Package | undefined {
    const path = join(dir, "package.json");
    let cached = this.manifests.get(path);
    if (cached === undefined) {
      cached = parseManifest(this.files.get(path));
      this.manifests.set(path, cached);
    }
    return cached ?? undefined;
  }
}

/** A package.json that is missing or not a JSON object counts as absent, as in Node. */
function parseManifest(bytes: Uint8Array | undefined): Package | null {
  if (bytes === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
    return { name: "", ...parsed };
  } catch {
    return null;
  }
}

/** `@scope/pkg/a/b` → name `@scope/pkg`, subpath `a/b`; `pkg` → subpath "". */
export function splitPackageSpecifier(specifier: string): { name: string; subpath: string } {
  const parts = specifier.split("/");
  const nameLength = specifier.startsWith("@") ? 2 : 1;
  return { name: parts.slice(0, nameLength).join("/"), subpath: parts.slice(nameLength).join("/") };
}

/** Joins zip paths, resolving `.` and `..`; never climbs above the root. */
export function join(base: string, relative: string): string {
  const parts = base === "" ? [] : base.split("/");
  for (const part of relative.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/");
}
