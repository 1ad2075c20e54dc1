/**
 * Unpacking an uploaded `Code.ZipFile` into an in-memory file map, with the
 * limits and messages of Lambda's CreateFunction / UpdateFunctionCode.
 */
import { type UnzipFileInfo, unzipSync } from "fflate";
import { LambdaError, invalidParameter, requestTooLarge } from "../errors";

/** Lambda's limit on a zip uploaded directly in the request. */
export const MAX_ZIPPED_BYTES = 52_428_800;
/** Lambda's limit on the deployment package once unzipped. */
export const MAX_UNZIPPED_BYTES = 262_144_000;

const CORRUPT_ZIP = "Could not unzip uploaded file. Please check your file, then try to upload again.";

/** Zip paths (no leading slash, `/`-separated) → file contents. */
export type ZipFiles = ReadonlyMap<string, Uint8Array>;

/** Rejects a zip over the direct-upload limit with Lambda's 413. */
export function assertZippedSize(byteLength: number): void {
  if (byteLength > MAX_ZIPPED_BYTES) {
    throw requestTooLarge(`Zipped size must be smaller than ${MAX_ZIPPED_BYTES} bytes`);
  }
}

const tooBigUnzipped = () => invalidParameter(`Unzipped size must be smaller than ${MAX_UNZIPPED_BYTES} bytes`);

/**
 * Unzips `zip`, skipping directory entries and normalising paths. Throws a
 * `LambdaError` for corrupt archives, archives over the unzipped limit and
 * entries that would land outside the function's root directory.
 */
export function unzipCode(zip: Uint8Array): Map<string, Uint8Array> {
  assertZippedSize(zip.byteLength);
  let declaredTotal = 0;
  // The sizes in the central directory are checked before anything is
  // inflated, so a zip bomb is refused without allocating its output
  // (fflate sizes each output buffer from the declared size).
  const filter = (info: UnzipFileInfo): boolean => {
    if (isDirectory(info.name)) return false;
    declaredTotal += info.originalSize;
    if (declaredTotal > MAX_UNZIPPED_BYTES) throw tooBigUnzipped();
    return true;
  };

  const link = firstSymlink(zip);
  if (link !== undefined) {
    throw invalidParameter(
      `The zip entry '${link}' is a symbolic link. Symbolic links are not supported: zip the files they point to instead (zip without -y).`,
    );
  }

  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip, { filter });
  } catch (error) {
    if (error instanceof LambdaError) throw error; // from the size filter
    throw invalidParameter(CORRUPT_ZIP);
  }

  const files = new Map<string, Uint8Array>();
  let total = 0;
  for (const [name, data] of Object.entries(entries)) {
    total += data.byteLength;
    if (total > MAX_UNZIPPED_BYTES) throw tooBigUnzipped();
    const path = normaliseEntryPath(name);
    if (path !== undefined) files.set(path, data);
  }
  return files;
}

function isDirectory(name: string): boolean {
  return name.endsWith("/") || name.endsWith("\\");
}

/**
 * `a/./b//c.js` → `a/b/c.js`; `a/../b.js` → `b.js`. Backslashes count as
 * separators because some Windows tools write them (Info-ZIP's unzip, which
 * Lambda's own extraction behaves like, converts them too). Returns
 * undefined for an entry that names the root itself. Throws for absolute
 * paths and for `..` that climbs above the root (a "zip slip").
 */
export function normaliseEntryPath(name: string): string | undefined {
  const slashed = name.replaceAll("\\", "/");
  if (slashed.startsWith("/") || /^[A-Za-z]:\//.test(slashed)) {
    throw invalidParameter(
      `The zip entry '${name}' has an absolute path. Zip the files relative to the function's root directory.`,
    );
  }
  const parts: string[] = [];
  for (const part of slashed.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") {
      parts.push(part);
    } else if (parts.pop() === undefined) {
      throw invalidParameter(
        `The zip entry '${name}' points outside the function's root directory ('..'). Remove it and upload again.`,
      );
    }
  }
  return parts.length > 0 ? parts.join("/") : undefined;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_FILE_HEADER = 0x02014b50;
const MADE_BY_UNIX = 3;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/**
 * The name of the first entry a Unix zip marks as a symbolic link (`zip -y`
 * stores the link's target as its content; fflate does not say), or
 * undefined. Reads the central directory; a malformed one is left to fflate.
 */
function firstSymlink(zip: Uint8Array): string | undefined {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = zip.byteLength - 22;
  const stop = Math.max(0, end - 0xffff);
  while (end >= stop && view.getUint32(end, true) !== END_OF_CENTRAL_DIRECTORY) end--;
  if (end < stop) return undefined;
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  for (let i = 0; i < count && at + 46 <= zip.byteLength; i++) {
    if (view.getUint32(at, true) !== CENTRAL_FILE_HEADER) return undefined;
    const madeBy = view.getUint8(at + 5);
    const mode = view.getUint32(at + 38, true) >>> 16;
    const nameLength = view.getUint16(at + 28, true);
    if (madeBy === MADE_BY_UNIX && (mode & S_IFMT) === S_IFLNK) {
      return new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLength));
    }
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return undefined;
}
