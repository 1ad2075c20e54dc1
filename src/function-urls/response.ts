/**
 * How Lambda turns a function's result into the URL's HTTP response
 * (docs/reference/lambda-api-notes.md §10, AWS's recorded answers in
 * LocalStack's test_lambda TestLambdaURL snapshots). Pure.
 *
 * - An object with `statusCode`: that status, its `headers`, `cookies` (each a
 *   Set-Cookie), `body` (base64-decoded when `isBase64Encoded`).
 * - Any other JSON value: 200, `application/json`, and the JSON as the body;
 *   a JSON string is sent as its text (`"hello"` → `hello`).
 * - Anything malformed (a status that is no HTTP status, headers that are not
 *   a map of strings, ...) is the function's fault: 502 like a function error.
 *
 * RESPONSE_STREAM: a handler that used `awslambda.HttpResponseStream.from`
 * sends a JSON prelude `{statusCode, headers, cookies}` and 8 NUL bytes
 * before the body (`splitPrelude`).
 */
import { fromBase64 } from "../util/bytes";

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: Uint8Array | string;
}

/** What the front door answers instead: the function's result could not be read as a response. */
export const MALFORMED = Symbol("malformed response");

// Informational (1xx) statuses are no final answer: a function cannot send one.
const STATUS_MIN = 200;
const STATUS_MAX = 599;
const PRELUDE_DELIMITER_BYTES = 8;
/** The content type a stream set by HttpResponseStream.from announces (src/runtime/shim-streaming.js). */
export const HTTP_INTEGRATION_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response";

export function interpretResult(payload: string): HttpAnswer | typeof MALFORMED {
  let value: unknown;
  try {
    value = payload === "" ? null : JSON.parse(payload);
  } catch {
    return MALFORMED;
  }
  if (!isRecord(value) || !("statusCode" in value)) {
    const body = typeof value === "string" ? value : payload;
    return { status: 200, headers: new Headers({ "content-type": "application/json" }), body };
  }
  const meta = metadataOf(value);
  if (meta === MALFORMED) return MALFORMED;
  const raw = value.body;
  if (raw !== undefined && raw !== null && typeof raw !== "string") return MALFORMED;
  let body: Uint8Array | string = raw ?? "";
  if (value.isBase64Encoded === true && typeof raw === "string") {
    try {
      body = fromBase64(raw);
    } catch {
      return MALFORMED;
    }
  }
  return { ...meta, body };
}

/** Status, headers and Set-Cookies of a response object (a buffered result or a stream's prelude). */
export function metadataOf(value: Record<string, unknown>): { status: number; headers: Headers } | typeof MALFORMED {
  const status = statusOf(value.statusCode ?? 200);
  if (status === undefined) return MALFORMED;
  const headers = new Headers();
  const given = value.headers ?? {};
  if (!isRecord(given)) return MALFORMED;
  try {
    for (const [name, v] of Object.entries(given)) {
      if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") return MALFORMED;
      headers.set(name, String(v));
    }
    const cookies = value.cookies ?? [];
    if (!Array.isArray(cookies) || !cookies.every((c) => typeof c === "string")) return MALFORMED;
    for (const cookie of cookies) headers.append("set-cookie", cookie);
  } catch {
    // a header name or value HTTP cannot carry
    return MALFORMED;
  }
  if (!headers.has("content-type")) headers.set("content-type", "application/json");
  return { status, headers };
}

/** An integer HTTP status (Lambda also takes it as a numeric string: `"418"`). */
function statusOf(raw: unknown): number | undefined {
  const n = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : raw;
  return typeof n === "number" && Number.isInteger(n) && n >= STATUS_MIN && n <= STATUS_MAX ? n : undefined;
}

/**
 * Splits a streamed HTTP integration response: the JSON prelude before the
 * first run of 8 NUL bytes, and whatever body bytes came with it. Undefined
 * while the delimiter has not arrived yet.
 */
export function splitPrelude(buffered: Uint8Array): { prelude: string; rest: Uint8Array } | undefined {
  let zeros = 0;
  for (let i = 0; i < buffered.byteLength; i++) {
    zeros = buffered[i] === 0 ? zeros + 1 : 0;
    if (zeros === PRELUDE_DELIMITER_BYTES) {
      const end = i + 1 - PRELUDE_DELIMITER_BYTES;
      return { prelude: new TextDecoder().decode(buffered.subarray(0, end)), rest: buffered.subarray(i + 1) };
    }
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
