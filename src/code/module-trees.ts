/**
 * The two trees of files a function's modules come from, as esbuild
 * namespaces: the zip at /var/task and its layers merged at /opt
 * (src/code/layers.ts), and Node's lookup across them with Lambda's NODE_PATH.
 */
import type { CodeLayers } from "./layers";
import { OPT_ROOT } from "./layers";
import type { NodeResolver } from "./node-resolve";
import type { ZipFiles } from "./zip";

/** esbuild namespaces of the zip's files and of the layers' files. */
export const ZIP = "zip";
export const OPT = "opt";

/** A tree of files the function sees: the zip at /var/task, its layers at /opt. */
export interface Tree {
  namespace: string;
  root: string;
  files: ZipFiles;
  resolver: NodeResolver;
}

export interface Trees {
  task: Tree;
  opt: Tree;
  /** The layers' NODE_PATH directories inside /opt. */
  nodePath: readonly string[];
}

/**
 * Node's lookup across both trees: an absolute path names its tree; else
 * the importer's own tree (relative paths, node_modules walking up), then
 * Lambda's NODE_PATH for layers (/opt/nodejs/node<major>/node_modules, then
 * /opt/nodejs/node_modules), then its /var/task entry (require only).
 */
export function findModule(trees: Trees, own: Tree, specifier: string, fromDir: string, require: boolean): { tree: Tree; path: string } | undefined {
  const rooted = [trees.task, trees.opt].find((t) => specifier === t.root || specifier.startsWith(`${t.root}/`));
  const tree = rooted ?? own;
  const local = tree.resolver.resolveLocal(specifier, rooted ? "" : fromDir, require);
  if (local !== undefined || rooted) return local === undefined ? undefined : { tree, path: local };
  const layered = trees.opt.resolver.fromDirectories(specifier, trees.nodePath, require);
  if (layered !== undefined) return { tree: trees.opt, path: layered };
  const fallback = trees.task.resolver.rootFallback(specifier, require);
  return fallback === undefined ? undefined : { tree: trees.task, path: fallback };
}

/** A module's path as messages show it: zip paths as they are, layer files under /opt. */
export function shownPath(key: string): string {
  if (key.startsWith(`${OPT}:`)) return `${OPT_ROOT}/${key.slice(`${OPT}:`.length)}`;
  return key.startsWith(`${ZIP}:`) ? key.slice(`${ZIP}:`.length) : key;
}

export function sourceOf(files: ZipFiles, layers: CodeLayers, key: string): Uint8Array | undefined {
  if (key.startsWith(`${OPT}:`)) return layers.opt.get(key.slice(`${OPT}:`.length));
  return key.startsWith(`${ZIP}:`) ? files.get(key.slice(`${ZIP}:`.length)) : undefined;
}
