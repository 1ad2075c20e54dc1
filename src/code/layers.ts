/**
 * A function's layers as its code sees them: extracted in order into /opt,
 * a later layer's file replacing an earlier one's at the same path, as
 * Lambda does. The bundler (src/code/bundler.ts) resolves modules from this
 * tree through Lambda's NODE_PATH entries for layers and serves its files
 * under /opt through fs (src/runtime/shim-fs.js).
 */
import { layerNodePath } from "../lambda/layers";
import type { ZipFiles } from "./zip";

/** Where layers are extracted in Lambda. */
export const OPT_ROOT = "/opt";

export interface CodeLayers {
  /** The merged contents, as paths under /opt. */
  opt: ZipFiles;
  /** NODE_PATH directories inside /opt (`nodejs/node22/node_modules`, `nodejs/node_modules`). */
  nodePath: readonly string[];
  /** The layers' unzipped sizes added up: Lambda's 250 MB limit counts them with the function. */
  unzippedBytes: number;
}

export const NO_LAYERS: CodeLayers = { opt: new Map(), nodePath: [], unzippedBytes: 0 };

export function mergeLayers(contents: readonly ZipFiles[], runtime: string): CodeLayers {
  const opt = new Map<string, Uint8Array>();
  let unzippedBytes = 0;
  for (const files of contents) {
    for (const [path, bytes] of files) {
      opt.set(path, bytes);
      unzippedBytes += bytes.byteLength;
    }
  }
  return { opt, nodePath: layerNodePath(runtime), unzippedBytes };
}

/** Bytes of the files of an unzipped package. */
export function unzippedSize(files: ZipFiles): number {
  let total = 0;
  for (const bytes of files.values()) total += bytes.byteLength;
  return total;
}
