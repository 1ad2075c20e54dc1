/**
 * List markers (Marker / NextMarker) are opaque to clients: base64url of the
 * JSON of the last returned item's sort key. A marker that does not decode
 * to the expected key is refused the way Lambda refuses a bad marker.
 */
import type { z } from "zod";
import { invalidParameter } from "../errors";

export function encodeMarker(key: object): string {
  return btoa(JSON.stringify(key)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

export function decodeMarker<T>(marker: string, key: z.ZodType<T>): T {
  try {
    const parsed = key.safeParse(JSON.parse(atob(marker.replaceAll("-", "+").replaceAll("_", "/"))));
    if (parsed.success) return parsed.data;
  } catch {
    // not base64 or not JSON: the error below
  }
  throw invalidParameter(`Invalid marker: ${marker}. Pass the NextMarker of a previous response unchanged.`);
}
