/**
 * NextToken of ListStreams and ListShards: opaque to clients, base64url of
 * JSON naming the last item returned and the stream it belongs to. A token
 * that does not decode is refused with InvalidArgumentException.
 */
import { fromBase64Url, toBase64Url } from "../util/bytes";
import { invalidArgument } from "./errors";

export interface PageToken {
  /** ListShards: the stream the token pages through. */
  stream?: string;
  /** The stream's incarnation, so a token outlives neither a delete nor a re-create. */
  streamId?: string;
  after: string;
}

export function encodePageToken(token: PageToken): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify(token)));
}

export function decodePageToken(text: string): PageToken {
  const bytes = fromBase64Url(text);
  try {
    const value: unknown = bytes === null ? null : JSON.parse(new TextDecoder().decode(bytes));
    if (typeof value === "object" && value !== null && typeof (value as PageToken).after === "string") return value as PageToken;
  } catch {
    // not JSON: refused below
  }
  throw invalidArgument(`Invalid NextToken: ${text}`);
}
