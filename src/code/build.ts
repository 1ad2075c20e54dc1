/**
 * The code pipeline of CreateFunction / UpdateFunctionCode: base64 zip →
 * files → handler module (as the Lambda Node.js runtime finds it) → one
 * bundled ES module (src/code/bundler.ts) → a probe in a Dynamic Worker
 * without network access that runs the module code (the init phase) and
 * checks that the handler export exists. Every failure is a LambdaError
 * whose message says what to fix. Nothing is stored here.
 */
import { Buffer } from "node:buffer";
import { invalidParameter, requestTooLarge } from "../errors";
import { type ProbeResult, probeHandler } from "../runtime/worker-code";
import { bundleHandler } from "./bundler";
import { type CodeLayers, NO_LAYERS, unzippedSize } from "./layers";
import { findHandlerModule, type HandlerModule, moduleCandidates, type ParsedHandler, parseHandler } from "./handler-path";
import { assertZippedSize, MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES, type ZipFiles, unzipCode } from "./zip";
import { sha256, toBase64 } from "../util/bytes";

export interface BuiltCode {
  /** The single ES module the runtime shim loads as `handler.js`. */
  bundle: string;
  /** The .zip package itself (kept, so a new Handler can be built from it). */
  zip: Uint8Array;
  /** base64 of the zip's raw SHA-256, as Lambda reports CodeSha256. */
  codeSha256: string;
  /** Size of the zip in bytes, as Lambda reports CodeSize. */
  codeSize: number;
}

export async function buildFunctionCode(loader: WorkerLoader, zipBase64: string, handler: string, layers: CodeLayers = NO_LAYERS): Promise<BuiltCode> {
  return buildFromZip(loader, decodeZipFile(zipBase64), handler, layers);
}

/** The same from the zip's bytes (a stored package rebuilt for a new Handler). */
export async function buildFromZip(loader: WorkerLoader, zip: Uint8Array, handler: string, layers: CodeLayers = NO_LAYERS): Promise<BuiltCode> {
  return bundlePrepared(loader, await prepareCode(zip, handler, layers));
}

/** A package checked and unzipped, its handler module found: what the slow steps start from. */
export interface PreparedCode {
  zip: Uint8Array;
  files: ZipFiles;
  entry: HandlerModule;
  handler: string;
  codeSha256: string;
  codeSize: number;
  /** The function's layers, extracted into /opt. */
  layers: CodeLayers;
}

/**
 * The quick checks, made while the request waits (AWS refuses these at the
 * API too): a handler string that cannot name a module, a zip that does not
 * unzip or is over the limits (the unzipped one counting the layers), a
 * handler module that is not in the zip.
 */
export async function prepareCode(zip: Uint8Array, handler: string, layers: CodeLayers = NO_LAYERS): Promise<PreparedCode> {
  const parsed = parseHandler(handler);
  if (!parsed.ok) {
    throw invalidParameter(
      `The handler '${handler}' is not valid (${parsed.errorMessage}). Use the form 'path/to/file.exportName', for example 'index.handler'.`,
    );
  }
  const files = unzipCode(zip);
  if (unzippedSize(files) + layers.unzippedBytes > MAX_UNZIPPED_BYTES) {
    throw invalidParameter(`Function code combined with layers exceeds the maximum allowed size of ${MAX_UNZIPPED_BYTES} bytes. The actual size is ${unzippedSize(files) + layers.unzippedBytes} bytes.`);
  }
  const entry = findHandlerModule(files, parsed.value.modulePath);
  if (entry === undefined) throw invalidParameter(missingModuleMessage(files, parsed.value));
  return { zip, files, entry, handler, codeSha256: toBase64(await sha256(zip)), codeSize: zip.byteLength, layers };
}

/** The slow steps, run after CreateFunction / Update* answered: bundle, then probe the handler export. */
export async function bundlePrepared(loader: WorkerLoader, code: PreparedCode): Promise<BuiltCode> {
  const bundle = await bundleHandler(code.files, code.entry, code.layers);
  const probe = await probeHandler(loader, bundle, code.handler);
  if (!probe.ok && rejectsUpload(probe)) {
    throw invalidParameter(`${probe.errorType}: ${probe.errorMessage} (handler '${code.handler}', module '${code.entry.path}')`);
  }
  return { bundle, zip: code.zip, codeSha256: code.codeSha256, codeSize: code.codeSize };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Strict base64 (Buffer.from alone silently skips bad characters). The size
 * limit is checked on the encoded length first, so an oversized upload is
 * refused before it is decoded.
 */
export function decodeZipFile(zipBase64: string): Uint8Array {
  const text = /\s/.test(zipBase64) ? zipBase64.replace(/\s+/g, "") : zipBase64;
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  if ((text.length / 4) * 3 - padding > MAX_ZIPPED_BYTES) {
    throw requestTooLarge(`Zipped size must be smaller than ${MAX_ZIPPED_BYTES} bytes`);
  }
  if (text.length % 4 !== 0 || !BASE64.test(text)) {
    throw invalidParameter("Code.ZipFile is not valid base64. Send the bytes of the .zip file, base64-encoded.");
  }
  const bytes = new Uint8Array(Buffer.from(text, "base64"));
  assertZippedSize(bytes.byteLength);
  return bytes;
}

/**
 * Which probe failures refuse the upload. Lambda itself runs no code at
 * upload, so only failures that do not depend on the function's environment
 * count: a missing handler export, a module that cannot be linked (but
 * not a require() that finds nothing, or a native addon), or a
 * Worker that does not start. Errors thrown by the module's own top-level
 * code (before or after a top-level await) are accepted: they may depend on
 * environment variables or network access the probe does not have (e.g.
 * `JSON.parse(process.env.CONFIG)` throws a SyntaxError there), and surface
 * at invoke as they do in Lambda; the handler export is then not checked.
 */
function rejectsUpload(probe: Exclude<ProbeResult, { ok: true }>): boolean {
  switch (probe.errorType) {
    case "Runtime.HandlerNotFound":
      return true;
    case "Runtime.ImportModuleError":
      // A module that cannot be linked is refused; a require() that finds nothing or a native
      // addon fails only when the code runs, in Node too, so Lambda accepts the zip and so do we.
      return !/Cannot find (?:module|package) '|native addon/.test(probe.errorMessage);
    case "Runtime.UserCodeSyntaxError":
      return /does not provide an export named|Failed to start Worker/.test(probe.errorMessage);
    default:
      return false;
  }
}

/** E.g. "Cannot find module 'index' for handler 'index.handler': the zip has no index.js, ... at its root". */
function missingModuleMessage(files: ZipFiles, handler: ParsedHandler): string {
  const [, js, mjs, cjs] = moduleCandidates(handler.modulePath);
  const where = handler.moduleDir === "" ? " at its root" : "";
  return (
    `Cannot find module '${handler.modulePath}' for handler '${handler.handler}': ` +
    `the zip has no ${js}, ${mjs} or ${cjs}${where}${missingModuleHint(files, handler)}`
  );
}

function missingModuleHint(files: ZipFiles, handler: ParsedHandler): string {
  const { modulePath, propertyPath } = handler;
  if (files.has(`${modulePath}.ts`) || files.has(`${modulePath}.mts`)) {
    return ". The Node.js runtime runs JavaScript: compile the TypeScript and zip the .js output";
  }
  // The usual mistake: zipping the project folder instead of its contents.
  const folders = [...files.keys()].flatMap((path) => {
    if (path.includes("node_modules/")) return [];
    const suffix = [".js", ".mjs", ".cjs"].map((ext) => `/${modulePath}${ext}`).find((s) => path.endsWith(s));
    return suffix === undefined ? [] : [{ path, folder: path.slice(0, -suffix.length) }];
  });
  const [nearest] = folders.sort((a, b) => a.path.length - b.path.length || (a.path < b.path ? -1 : 1));
  if (nearest === undefined) return "";
  return (
    `. It does have '${nearest.path}': zip the contents of '${nearest.folder}' rather than the folder itself, ` +
    `or set the handler to '${nearest.folder}/${modulePath}.${propertyPath.join(".")}'`
  );
}
