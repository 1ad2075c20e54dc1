import { AwsV4Signer } from "aws4fetch";
import { incompleteSignature as incomplete, invalidSignature as invalid, unrecognizedClient } from "../errors";
import { sha256, toHex } from "../util/bytes";
import { timingSafeEqualText } from "./keys";

/**
 * Server-side verification of AWS Signature Version 4 (header form), so the
 * AWS CLI and SDKs can authenticate with their ordinary signing code.
 *
 * The expected signature is computed by aws4fetch's `AwsV4Signer` (written for
 * Workers, crypto.subtle only) from the request's method, URL, exactly the
 * headers the client listed in SignedHeaders, the client's X-Amz-Date, region
 * and service. Its non-S3 canonicalisation is the one the SDKs use: the
 * already percent-encoded path encoded a second time, query pairs sorted by
 * encoded key then value, header values whitespace-collapsed. Where it would
 * not reproduce the client's canonical request by itself, its inputs are
 * adjusted (see `canonicalInputs`).
 *
 * Error types, wording and the order of checks follow what AWS's front end
 * returns (the coral messages DynamoDB and Glacier also return), so client
 * code that recognises clock skew from them keeps working.
 */

export interface SigV4Result {
  accessKeyId: string;
  region: string;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
const LAMBDA = "lambda";
const TERMINATOR = "aws4_request";
const MAX_SKEW_MS = 15 * 60 * 1000;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

export const SIGNATURE_MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";


export function hasSigV4(request: Request): boolean {
  return (request.headers.get("authorization") ?? "").startsWith(ALGORITHM);
}

interface ParsedAuthorization {
  algorithm: string;
  credential: string;
  signedHeaders: string[];
  signature: string;
}

/** `AWS4-HMAC-SHA256 Credential=.., SignedHeaders=.., Signature=..`; AWS also accepts commas without spaces. */
function parseAuthorization(auth: string, amzDate: string | null): ParsedAuthorization {
  const space = auth.indexOf(" ");
  const algorithm = space === -1 ? auth : auth.slice(0, space);
  const params = new Map<string, string>();
  for (const part of (space === -1 ? "" : auth.slice(space + 1)).split(",")) {
    const pair = part.trim();
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    if (eq === -1) {
      throw incomplete(`'${pair}' not a valid key=value pair (missing equal-sign) in Authorization header: '${auth}'.`);
    }
    params.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  let missing = "";
  for (const name of ["Credential", "Signature", "SignedHeaders"]) {
    if (!params.get(name)) missing += `Authorization header requires '${name}' parameter. `;
  }
  // Only X-Amz-Date is accepted (not `Date`): every SDK and aws4fetch send it, and
  // it is the timestamp the string to sign is built from.
  if (!amzDate) missing += "Authorization header requires existence of a 'X-Amz-Date' header. ";
  if (missing) throw incomplete(`${missing}Authorization=${auth}`);
  return {
    algorithm,
    credential: params.get("Credential") ?? "",
    signedHeaders: (params.get("SignedHeaders") ?? "").split(";"),
    signature: params.get("Signature") ?? "",
  };
}

/** Basic ISO 8601 `YYYYMMDDTHHMMSSZ`, rejecting impossible dates such as month 13. */
function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  const t = m ? Date.UTC(+(m[1] ?? 0), +(m[2] ?? 0) - 1, +(m[3] ?? 0), +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)) : NaN;
  if (Number.isNaN(t) || formatAmzDate(t) !== value) {
    throw incomplete(`Date must be in ISO-8601 'basic format'. Got '${value}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  }
  return t;
}

function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, "");
}

function checkClock(amzDate: string, signedAt: number, now: number): void {
  if (signedAt < now - MAX_SKEW_MS) {
    throw invalid(
      `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - MAX_SKEW_MS)} (${formatAmzDate(now)} - 15 min.)`,
    );
  }
  if (signedAt > now + MAX_SKEW_MS) {
    throw invalid(
      `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + MAX_SKEW_MS)} (${formatAmzDate(now)} + 15 min.)`,
    );
  }
}


/**
 * The URL and header set handed to AwsV4Signer, adjusted where it would
 * otherwise differ from what the client signed:
 * - it takes the host from the URL, so the URL gets the Host header's value
 *   (a proxy or `wrangler dev` may have rewritten request.url's host);
 * - it signs every header it is given (`allHeaders`), so it gets only the
 *   SignedHeaders, never headers a proxy added afterwards;
 * - `content-length` is signed by the JS SDK but may be dropped by a proxy that
 *   re-chunks the body, so a missing one is restored from the body length.
 */
function canonicalInputs(request: Request, signed: string[], body: ArrayBuffer): { url: string; headers: Headers } {
  const url = new URL(request.url);
  const host = request.headers.get("host");
  // The host setter keeps the old port when the new value has none: clear it first.
  if (host) {
    url.port = "";
    url.host = host;
  }
  const headers = new Headers();
  for (const name of signed) {
    if (name === "host") continue;
    const value = request.headers.get(name) ?? (name === "content-length" ? String(body.byteLength) : "");
    headers.set(name, value);
  }
  return { url: url.toString(), headers };
}

/**
 * Verifies the request's SigV4 Authorization header. `body` is the exact raw
 * request body bytes. `secretFor` returns the secret access key for an access
 * key id, or null when unknown/revoked. `service` is the signing name the
 * credential scope must name (`lambda`, `sqs`, `kinesis`, `logs`).
 * Throws LambdaError on every failure.
 */
export async function verifySigV4(
  request: Request,
  body: ArrayBuffer,
  secretFor: (accessKeyId: string) => Promise<string | null>,
  now: Date = new Date(),
  service: string = LAMBDA,
): Promise<SigV4Result> {
  const auth = (request.headers.get("authorization") ?? "").trim();
  const amzDate = request.headers.get("x-amz-date");
  const parsed = parseAuthorization(auth, amzDate);
  const date = amzDate ?? "";
  checkClock(date, parseAmzDate(date), now.getTime());

  // Canonical headers are lower-case; an upper-case or otherwise invalid name
  // could never have produced a matching canonical request.
  if (!parsed.signedHeaders.every((h) => HEADER_NAME.test(h))) throw invalid(SIGNATURE_MISMATCH);
  if (!parsed.signedHeaders.includes("host")) {
    throw invalid("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }
  // AWS only needs *a* signed date; we insist on X-Amz-Date being signed, because an
  // unsigned timestamp could be replaced to replay an old request past its 15 minutes.
  if (!parsed.signedHeaders.includes("x-amz-date")) {
    throw invalid("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (parsed.algorithm !== ALGORITHM) {
    throw incomplete(`Unsupported AWS 'algorithm': '${parsed.algorithm}' (only ${ALGORITHM} for now). `);
  }

  const scope = parsed.credential.replace(/\/+$/, "").split("/");
  const [accessKeyId = "", scopeDate = "", region = "", scopedService = "", terminator = ""] = scope;
  if (scope.length !== 5) {
    throw incomplete(
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${parsed.credential}'`,
    );
  }
  const scopeErrors: string[] = [];
  if (!region) scopeErrors.push("Credential should be scoped to a valid region, not ''.");
  if (scopedService !== service) scopeErrors.push(`Credential should be scoped to correct service: '${service}'.`);
  if (terminator !== TERMINATOR) {
    scopeErrors.push(`Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${terminator}'.`);
  }
  if (scopeDate !== date.slice(0, 8)) {
    scopeErrors.push(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${date.slice(0, 8)}', from '${date}'.`,
    );
  }
  if (scopeErrors.length > 0) throw invalid(scopeErrors.join(" "));

  const secret = accessKeyId ? await secretFor(accessKeyId) : null;
  if (secret === null) {
    throw unrecognizedClient();
  }

  // The payload hash is always the body's own hash. The JS SDK also sends it as
  // x-amz-content-sha256 (signed); trusting that header without checking it would
  // let a captured request be replayed with a different body. UNSIGNED-PAYLOAD and
  // streaming payloads are thereby refused: Lambda has no use for them.
  const claimedHash = request.headers.get("x-amz-content-sha256");
  if (claimedHash !== null && claimedHash !== toHex(await sha256(new Uint8Array(body)))) throw invalid(SIGNATURE_MISMATCH);

  const { url, headers } = canonicalInputs(request, parsed.signedHeaders, body);
  const signer = new AwsV4Signer({
    method: request.method,
    url,
    headers,
    body,
    accessKeyId,
    secretAccessKey: secret,
    service,
    region,
    datetime: date,
    allHeaders: true,
  });
  // AwsV4Signer always signs host and x-amz-date (both required above), so its
  // list equals the client's exactly when the client's was sorted and unique.
  const expected = signer.signedHeaders === parsed.signedHeaders.join(";") ? await signer.signature() : "";
  if (!timingSafeEqualText(expected, parsed.signature)) throw invalid(SIGNATURE_MISMATCH);
  return { accessKeyId, region };
}
