// @ts-check
/**
 * `fs` and `fs/promises` as a Lambda function sees them, inside its Dynamic
 * Worker: the zip's files read-only under /var/task (LAMBDA_TASK_ROOT, also
 * the cwd), its layers' files read-only under /opt, a writable /tmp that lives as long as the isolate (one execution
 * environment: kept across warm invocations, never shared) and is capped at
 * the function's EphemeralStorage (ENOSPC past it). Every other path goes to
 * workerd's own node:fs (/dev/null, /bundle, ...).
 *
 * Why not workerd's node:fs alone: its /tmp is per request (files vanish
 * between invocations) and it has no /var/task. The bundler
 * (src/code/bundler.ts) points every `fs`, `node:fs` and `fs/promises`
 * import of the function's code at this module; the bundle registers the
 * zip's files in shim-files.js when it is evaluated. This module is evaluated
 * only when the function imports fs or may require it at run time.
 */
import { Buffer } from "node:buffer";
import * as nodeFs from "node:fs";
import { Readable, Writable } from "node:stream";
import { absolute, OPT, registerFs, TASK_ROOT, taskDirs, taskTable, tmpQuota } from "./shim-files.js";

export * from "node:fs";

// The tables (the zip and the layers, read-only), the quota and the path rules live in
// shim-files.js, which every bundle loads; this module only when the function uses fs.
export { absolute, setTaskFiles, setTmpQuota, TASK_ROOT } from "./shim-files.js";
const TMP = "/tmp";
const decoded = new Map();

/** Absolute paths under /tmp → { data, mtimeMs }; directories apart. */
const tmpFiles = new Map();
const tmpDirs = new Set([TMP]);
let tmpUsed = 0;
const started = Date.now();

// ---- Paths and errors, as Node writes them.
const ERRNO = { ENOENT: -2, EACCES: -13, EEXIST: -17, ENOTDIR: -20, EISDIR: -21, ENOSPC: -28, EROFS: -30, ENOTEMPTY: -39, ENOTSUP: -95 };
const DESCRIPTION = {
  ENOENT: "no such file or directory", EACCES: "permission denied", EEXIST: "file already exists", ENOTDIR: "not a directory",
  EISDIR: "illegal operation on a directory", ENOSPC: "no space left on device", EROFS: "read-only file system",
  ENOTEMPTY: "directory not empty", ENOTSUP: "operation not supported on socket",
};
function fsError(code, syscall, path, detail) {
  const error = new Error(code + ": " + (detail ?? DESCRIPTION[code]) + ", " + syscall + " '" + path + "'");
  return Object.assign(error, { errno: ERRNO[code], code, syscall, path });
}

/** Read-only: the zip under /var/task and the layers under /opt. */
const inTask = (abs) => abs === TASK_ROOT || abs.startsWith(TASK_ROOT + "/") || abs === OPT || abs.startsWith(OPT + "/");
const inTmp = (abs) => abs === TMP || abs.startsWith(TMP + "/");
const parentOf = (abs) => abs.slice(0, abs.lastIndexOf("/")) || "/";
/** Is this a path this module answers for (the rest goes to workerd's fs)? */
const ours = (abs) => inTask(abs) || inTmp(abs) || abs === "/var";

// ---- Reading.
function taskBytes(abs, syscall) {
  const key = abs;
  if (!(key in taskTable)) throw fsError(taskDirs.has(abs) ? "EISDIR" : "ENOENT", syscall, abs);
  const entry = taskTable[key];
  if (entry === null || entry === undefined) {
    throw fsError("ENOTSUP", syscall, abs, "the source of modules bundled from node_modules is not kept on disk");
  }
  let bytes = decoded.get(key);
  if (bytes === undefined) {
    bytes = typeof entry === "string" ? Buffer.from(entry, "utf8") : Buffer.from(entry[1], "base64");
    decoded.set(key, bytes);
  }
  return bytes;
}

function readBytes(abs, syscall = "open") {
  if (inTask(abs)) return taskBytes(abs, syscall);
  const file = tmpFiles.get(abs);
  if (file !== undefined) return file.data;
  throw fsError(tmpDirs.has(abs) ? "EISDIR" : "ENOENT", syscall, abs);
}

function encodingOf(options) {
  return typeof options === "string" ? options : options?.encoding ?? undefined;
}

function kind(abs) {
  if (inTask(abs)) return taskDirs.has(abs) ? "dir" : abs in taskTable ? "file" : undefined;
  if (abs === "/var") return "dir";
  return tmpDirs.has(abs) ? "dir" : tmpFiles.has(abs) ? "file" : undefined;
}

/** The is*() questions Stats and Dirent both answer from their `type` ("file" or "dir"; nothing else exists here). */
class FileKind {
  /** @this {{ type: string }} */
  isFile() { return this.type === "file"; }
  /** @this {{ type: string }} */
  isDirectory() { return this.type === "dir"; }
  isSymbolicLink() { return false; }
  isBlockDevice() { return false; }
  isCharacterDevice() { return false; }
  isFIFO() { return false; }
  isSocket() { return false; }
}

class Stats extends FileKind {
  constructor(type, size, mtimeMs) {
    super();
    const time = new Date(mtimeMs);
    Object.assign(this, {
      dev: 1, mode: type === "dir" ? 0o40755 : 0o100644, nlink: 1, uid: 993, gid: 990, rdev: 0, blksize: 4096,
      ino: 0, size, blocks: Math.ceil(size / 512), atimeMs: mtimeMs, mtimeMs, ctimeMs: mtimeMs, birthtimeMs: mtimeMs,
      atime: time, mtime: time, ctime: time, birthtime: time,
    });
    this.type = type;
  }
}

class Dirent extends FileKind {
  constructor(name, parentPath, type) { super(); this.name = name; this.parentPath = parentPath; this.path = parentPath; this.type = type; }
}

function statOf(abs, syscall = "stat") {
  const type = kind(abs);
  if (type === undefined) throw fsError("ENOENT", syscall, abs);
  if (type === "dir") return new Stats("dir", 4096, started);
  const file = tmpFiles.get(abs);
  return new Stats("file", readSize(abs), file?.mtimeMs ?? started);
}
function readSize(abs) {
  if (tmpFiles.has(abs)) return tmpFiles.get(abs).data.byteLength;
  const entry = taskTable[abs];
  return entry === null || entry === undefined ? 0 : taskBytes(abs, "stat").byteLength;
}

function listDir(abs, options) {
  const type = kind(abs);
  if (type === undefined) throw fsError("ENOENT", "scandir", abs);
  if (type !== "dir") throw fsError("ENOTDIR", "scandir", abs);
  const prefix = abs === "/" ? "/" : abs + "/";
  const names = new Map();
  const candidates = abs === "/var" ? [TASK_ROOT] : inTask(abs)
    ? [...taskDirs, ...Object.keys(taskTable)]
    : [...tmpDirs, ...tmpFiles.keys()];
  for (const path of candidates) {
    if (!path.startsWith(prefix)) continue;
    const name = path.slice(prefix.length);
    if (name !== "" && !name.includes("/")) names.set(name, kind(path));
  }
  const sorted = [...names.keys()].sort();
  if (options?.withFileTypes) return sorted.map((name) => new Dirent(name, abs, names.get(name)));
  return encodingOf(options) === "buffer" ? sorted.map((name) => Buffer.from(name)) : sorted;
}

// ---- Writing (/tmp only).
function writable(abs, syscall) {
  if (!inTmp(abs)) throw fsError(inTask(abs) || abs === "/var" ? "EROFS" : "EACCES", syscall, abs);
  if (tmpDirs.has(abs)) throw fsError("EISDIR", syscall, abs);
  if (!tmpDirs.has(parentOf(abs))) throw fsError(kind(parentOf(abs)) === "file" ? "ENOTDIR" : "ENOENT", syscall, abs);
}
function toBytes(data, options) {
  if (typeof data === "string") return Buffer.from(data, /** @type {BufferEncoding} */ (encodingOf(options) ?? "utf8"));
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView.');
}
function store(abs, bytes, syscall) {
  writable(abs, syscall);
  const before = tmpFiles.get(abs)?.data.byteLength ?? 0;
  if (tmpUsed - before + bytes.byteLength > tmpQuota) throw fsError("ENOSPC", "write", abs);
  tmpUsed += bytes.byteLength - before;
  tmpFiles.set(abs, { data: Buffer.from(bytes), mtimeMs: Date.now() });
}

function writeFileAt(path, data, options) {
  const abs = absolute(path);
  const bytes = toBytes(data, options);
  const flag = typeof options === "object" && options !== null ? options.flag : undefined;
  if (flag !== undefined && flag.startsWith("a") && tmpFiles.has(abs)) store(abs, Buffer.concat([tmpFiles.get(abs).data, bytes]), "open");
  else store(abs, bytes, "open");
}
function mkdirAt(path, options) {
  const abs = absolute(path);
  const recursive = typeof options === "object" && options?.recursive === true;
  if (kind(abs) !== undefined) {
    if (recursive && kind(abs) === "dir") return undefined;
    throw fsError("EEXIST", "mkdir", abs);
  }
  if (!inTmp(abs)) throw fsError(inTask(abs) ? "EROFS" : "EACCES", "mkdir", abs);
  const missing = [];
  for (let dir = abs; !tmpDirs.has(dir); dir = parentOf(dir)) {
    if (tmpFiles.has(dir)) throw fsError("ENOTDIR", "mkdir", abs);
    if (!inTmp(dir)) throw fsError("ENOENT", "mkdir", abs);
    missing.push(dir);
  }
  if (missing.length > 1 && !recursive) throw fsError("ENOENT", "mkdir", abs);
  for (const dir of missing) tmpDirs.add(dir);
  return recursive ? missing.at(-1) : undefined;
}
function removeAt(path, options, syscall) {
  const abs = absolute(path);
  if (!inTmp(abs) || abs === TMP) throw fsError(inTask(abs) ? "EROFS" : "EACCES", syscall, abs);
  const type = kind(abs);
  if (type === undefined) {
    if (options?.force) return;
    throw fsError("ENOENT", syscall, abs);
  }
  if (type === "file") {
    if (syscall === "rmdir") throw fsError("ENOTDIR", syscall, abs);
    tmpUsed -= tmpFiles.get(abs).data.byteLength;
    tmpFiles.delete(abs);
    return;
  }
  if (syscall === "unlink") throw fsError("EISDIR", syscall, abs);
  const inside = [...tmpFiles.keys(), ...tmpDirs].filter((p) => p.startsWith(abs + "/"));
  if (inside.length > 0 && !options?.recursive) throw fsError(syscall === "rm" ? "EISDIR" : "ENOTEMPTY", syscall, abs);
  for (const p of inside) {
    if (tmpFiles.has(p)) { tmpUsed -= tmpFiles.get(p).data.byteLength; tmpFiles.delete(p); }
    tmpDirs.delete(p);
  }
  tmpDirs.delete(abs);
}
function renameAt(from, to) {
  const src = absolute(from);
  const dest = absolute(to);
  const data = readBytes(src, "rename");
  if (!inTmp(src)) throw fsError("EROFS", "rename", src);
  removeAt(src, {}, "unlink");
  store(dest, data, "rename");
}

// ---- The API: sync, callback and promise forms of each operation.
const sync = {
  existsSync: (path) => { try { const abs = absolute(path); return ours(abs) ? kind(abs) !== undefined : nodeFs.existsSync(abs); } catch { return false; } },
  readFileSync: (path, options) => {
    if (typeof path === "number") return nodeFs.readFileSync(path, options);
    const bytes = readBytes(absolute(path));
    const encoding = encodingOf(options);
    return encoding && encoding !== "buffer" ? bytes.toString(encoding) : Buffer.from(bytes);
  },
  writeFileSync: (path, data, options) => writeFileAt(path, data, options),
  appendFileSync: (path, data, options) => writeFileAt(path, data, { ...(typeof options === "string" ? { encoding: options } : options), flag: "a" }),
  statSync: (path, options) => {
    try { return statOf(absolute(path)); } catch (error) { if (options?.throwIfNoEntry === false) return undefined; throw error; }
  },
  lstatSync: (path, options) => sync.statSync(path, options),
  readdirSync: (path, options) => listDir(absolute(path), options),
  mkdirSync: (path, options) => mkdirAt(path, options),
  unlinkSync: (path) => removeAt(path, {}, "unlink"),
  rmSync: (path, options) => removeAt(path, options ?? {}, "rm"),
  rmdirSync: (path, options) => removeAt(path, options ?? {}, "rmdir"),
  accessSync: (path, mode = 0) => {
    const abs = absolute(path);
    if (kind(abs) === undefined) throw fsError("ENOENT", "access", abs);
    if ((mode & 2) !== 0 && !inTmp(abs)) throw fsError("EROFS", "access", abs);
  },
  realpathSync: (path) => { const abs = absolute(path); statOf(abs, "lstat"); return abs; },
  renameSync: (from, to) => renameAt(from, to),
  copyFileSync: (from, to) => store(absolute(to), readBytes(absolute(from)), "copyfile"),
  mkdtempSync: (prefix) => {
    const path = absolute(prefix + Math.random().toString(36).slice(2, 8));
    mkdirAt(path, {});
    return path;
  },
};
/**
 * `fn` for our paths; workerd's fs for every other one.
 * @param {string} name
 * @param {(...args: any[]) => any} fn
 * @returns {(...args: any[]) => any}
 */
function route(name, fn) {
  return (path, ...args) => {
    let abs;
    try { abs = typeof path === "number" ? undefined : absolute(path); } catch { abs = undefined; }
    const second = name === "renameSync" || name === "copyFileSync" ? args[0] : undefined;
    const useOurs = (abs !== undefined && ours(abs)) || (second !== undefined && ours(absolute(second)));
    return useOurs || name === "existsSync" ? fn(path, ...args) : nodeFs[name](path, ...args);
  };
}
/** @param {(...args: any[]) => any} fn */
const asPromise = (fn) => async (...args) => fn(...args);
/** @param {(...args: any[]) => any} fn */
const asCallback = (fn) => (...args) => {
  const callback = args.pop();
  if (typeof callback !== "function") throw new TypeError('The "cb" argument must be of type function. Received ' + typeof callback);
  let value;
  try { value = fn(...args); } catch (error) { queueMicrotask(() => callback(error)); return; }
  queueMicrotask(() => callback(null, value));
};

export const existsSync = route("existsSync", sync.existsSync);
export const readFileSync = route("readFileSync", sync.readFileSync);
export const writeFileSync = route("writeFileSync", sync.writeFileSync);
export const appendFileSync = route("appendFileSync", sync.appendFileSync);
export const statSync = route("statSync", sync.statSync);
export const lstatSync = route("lstatSync", sync.lstatSync);
export const readdirSync = route("readdirSync", sync.readdirSync);
export const mkdirSync = route("mkdirSync", sync.mkdirSync);
export const unlinkSync = route("unlinkSync", sync.unlinkSync);
export const rmSync = route("rmSync", sync.rmSync);
export const rmdirSync = route("rmdirSync", sync.rmdirSync);
export const accessSync = route("accessSync", sync.accessSync);
export const realpathSync = Object.assign(route("realpathSync", sync.realpathSync), { native: route("realpathSync", sync.realpathSync) });
export const renameSync = route("renameSync", sync.renameSync);
export const copyFileSync = route("copyFileSync", sync.copyFileSync);
export const mkdtempSync = route("mkdtempSync", sync.mkdtempSync);

export const readFile = asCallback(readFileSync);
export const writeFile = asCallback(writeFileSync);
export const appendFile = asCallback(appendFileSync);
export const stat = asCallback(statSync);
export const lstat = asCallback(lstatSync);
export const readdir = asCallback(readdirSync);
export const mkdir = asCallback(mkdirSync);
export const unlink = asCallback(unlinkSync);
export const rm = asCallback(rmSync);
export const rmdir = asCallback(rmdirSync);
export const access = asCallback(accessSync);
export const realpath = asCallback(realpathSync);
export const rename = asCallback(renameSync);
export const copyFile = asCallback(copyFileSync);
export const mkdtemp = asCallback(mkdtempSync);
export function exists(path, callback) { queueMicrotask(() => callback(existsSync(path))); }

export const promises = {
  ...nodeFs.promises,
  readFile: asPromise(readFileSync), writeFile: asPromise(writeFileSync), appendFile: asPromise(appendFileSync),
  stat: asPromise(statSync), lstat: asPromise(lstatSync), readdir: asPromise(readdirSync), mkdir: asPromise(mkdirSync),
  unlink: asPromise(unlinkSync), rm: asPromise(rmSync), rmdir: asPromise(rmdirSync), access: asPromise(accessSync),
  realpath: asPromise(realpathSync), rename: asPromise(renameSync), copyFile: asPromise(copyFileSync), mkdtemp: asPromise(mkdtempSync),
};

export function createReadStream(path, options) {
  const abs = absolute(path);
  if (!ours(abs)) return nodeFs.createReadStream(path, options);
  const stream = new Readable({ read() {} });
  queueMicrotask(() => {
    try {
      const bytes = readBytes(abs);
      const encoding = encodingOf(options);
      stream.push(encoding ? bytes.toString(encoding) : bytes);
      stream.push(null);
    } catch (error) {
      stream.destroy(/** @type {Error} */ (error));
    }
  });
  return stream;
}

export function createWriteStream(path, options) {
  const abs = absolute(path);
  if (!ours(abs)) return nodeFs.createWriteStream(path, options);
  writeFileAt(abs, "", options?.flags?.startsWith("a") ? { flag: "a" } : undefined);
  return new Writable({
    write(chunk, encoding, done) {
      try { writeFileAt(abs, toBytes(chunk, encoding), { flag: "a" }); done(); } catch (error) { done(/** @type {Error} */ (error)); }
    },
  });
}

const fs = {
  ...nodeFs,
  existsSync, readFileSync, writeFileSync, appendFileSync, statSync, lstatSync, readdirSync, mkdirSync, unlinkSync, rmSync,
  rmdirSync, accessSync, realpathSync, renameSync, copyFileSync, mkdtempSync, readFile, writeFile, appendFile, stat, lstat,
  readdir, mkdir, unlink, rm, rmdir, access, realpath, rename, copyFile, mkdtemp, exists, promises, createReadStream,
  createWriteStream,
};
registerFs(fs);
export default fs;
