// @ts-check
/**
 * The file tables of a function's Dynamic Worker, without the fs module
 * itself: the zip's and the layers' files (read-only, /var/task and /opt),
 * the function's EphemeralStorage, and Node's path rules. Every bundle's
 * entry registers its files here (src/code/bundler.ts) and the shim sets the
 * quota, but `fs` (shim-fs.js, which evaluates workerd's node:fs and
 * node:stream) is loaded only when the function imports it or may require it
 * at run time: a cold start of a function that never touches files does not
 * pay for it. No Node built-in is imported here.
 */

export const TASK_ROOT = "/var/task";
/** Where Lambda extracts a function's layers (present, maybe empty, in every function). */
export const OPT = "/opt";

/** Absolute path → contents: a string (UTF-8 text), ["b64", base64], or null (content not kept). */
export let taskTable = /** @type {Record<string, string | [string, string] | null>} */ ({});
/** Absolute read-only directory paths, derived from the tables. */
export let taskDirs = new Set([TASK_ROOT, OPT]);

/**
 * Called by the bundle's entry when it is evaluated: `files()` returns the
 * zip's table, `layers()` the layers' (paths relative to /opt), each keyed
 * by path without a leading slash.
 */
export function setTaskFiles(files, layers = () => ({})) {
  taskTable = {};
  taskDirs = new Set([TASK_ROOT, OPT]);
  for (const [root, table] of [[TASK_ROOT, files()], [OPT, layers()]]) {
    for (const [path, entry] of Object.entries(table)) {
      taskTable[root + "/" + path] = entry;
      const parts = path.split("/");
      for (let i = 1; i < parts.length; i++) taskDirs.add(root + "/" + parts.slice(0, i).join("/"));
    }
  }
}

/** What /tmp may hold, in bytes: the function's EphemeralStorage.Size. */
export let tmpQuota = 512 * 1024 * 1024;
/** The function's EphemeralStorage.Size, in MB. */
export function setTmpQuota(megabytes) { if (megabytes > 0) tmpQuota = megabytes * 1024 * 1024; }

/** Absolute, normalised path; relative paths are relative to the cwd, /var/task. */
export function absolute(path) {
  let text = path instanceof URL ? decodeURIComponent(path.pathname) : path instanceof Uint8Array ? new TextDecoder().decode(path) : String(path);
  if (text.startsWith("file://")) text = decodeURIComponent(new URL(text).pathname);
  const parts = [];
  for (const part of (text.startsWith("/") ? text : TASK_ROOT + "/" + text).split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return "/" + parts.join("/");
}

/** The runtime's fs module (shim-fs.js), once it has been evaluated. */
export let loadedFs = /** @type {typeof import("./shim-fs.js").default | undefined} */ (undefined);
/** @param {typeof import("./shim-fs.js").default} fs */
export function registerFs(fs) { loadedFs = fs; }
