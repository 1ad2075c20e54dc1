/**
 * Invocation lineage: which invocation a function's outgoing request belongs
 * to and how deep in a chain of invocations it is, so that an invoke caused by
 * a function calling itself (directly or via a queue) can be recognised, as
 * Lambda's recursive loop detection does.
 *
 * Two halves:
 * - a signed token the runtime shim attaches to each fetch() during an
 *   invocation (internal header, removed by the egress gateway). Signed
 *   because user code can see and rewrite its own requests: it must not be
 *   able to claim a shallower depth than it has.
 * - the public header the gateway stamps on the request that leaves:
 *   `X-Amzn-Trace-Id`, the header AWS services and SDKs already propagate.
 */
import { hash32 } from "../placement/hash";
import { hmacSha256, toBase64Url, toHex } from "../util/bytes";
import { openToken, signToken } from "../util/signed-token";

/**
 * How many times each function has run in one chain of invocations that
 * started with one event: `arnHash(unqualified function ARN)` → count. A chain
 * through many different functions has many entries of 1; a loop has one entry
 * that keeps growing (src/invoke/recursion.ts decides when to stop it).
 */
export type LineageCounts = Readonly<Record<string, number>>;

export interface Lineage {
  /** Request id of the invocation that made the outgoing request. */
  requestId: string;
  /** ARN of the function the isolate runs (the egress gateway checks it). */
  functionArn: string;
  /** The invocation's chain, this invocation included; stamped verbatim. */
  counts: LineageCounts;
}

export const TRACE_HEADER = "X-Amzn-Trace-Id";

/**
 * A token older than this is refused. The longest a Lambda invocation may run
 * is 15 minutes; a token kept by user code beyond its invocation should not
 * keep stamping an old, shallow depth forever. (Within this window a function
 * can still replay one of its own tokens: the token proves who issued it and
 * roughly when, not that the invocation is still running.)
 */
const MAX_TOKEN_AGE_SECONDS = 15 * 60 + 60;


/**
 * The egress signing secret, derived from the master secret so that the key
 * that signs lineage tokens is not the key tenant access keys come from.
 */
export async function deriveEgressSecret(masterSecret: string): Promise<string> {
  const mac = await hmacSha256(masterSecret, "cellfn-egress");
  return toBase64Url(mac);
}

/**
 * `<chain token>~<request id, URI-encoded>`. The chain token,
 * `base64url(JSON payload) + "." + base64url(HMAC-SHA256(secret, first
 * part))`, signs what the gateway must be able to trust: the function, its
 * chain and when it was signed. The request id only names the trace (the
 * Root of `X-Amzn-Trace-Id`, which user code may set itself anyway), so it
 * rides unsigned and one chain token serves many invocations.
 */
export async function signInvocationToken(secret: string, lineage: Lineage): Promise<string> {
  return withRequestId(await signChainToken(secret, lineage), lineage.requestId);
}

/**
 * A chain token is signed again once it is this old: MAX_TOKEN_AGE_SECONDS
 * leaves a minute over the longest invocation, so one handed out stays good
 * for all of it.
 */
const CHAIN_TOKEN_REUSE_MS = 60_000;
const chainTokens = new Map<string, { token: string; signedAt: number }>();
const MAX_CHAIN_TOKENS = 10_000;

/**
 * `signInvocationToken`, reusing the chain token of the same function and
 * chain while it is under a minute old: signing (an HMAC, JSON and two
 * base64url encodings) was 6 % of a warm invoke's thread time
 * (bench/results/invoke-cost-features-2026-12-06.txt).
 */
export async function invocationToken(secret: string, lineage: Lineage): Promise<string> {
  const key = `${secret}\u0000${lineage.functionArn}\u0000${JSON.stringify(lineage.counts)}`;
  const now = Date.now();
  let cached = chainTokens.get(key);
  if (cached === undefined || now - cached.signedAt >= CHAIN_TOKEN_REUSE_MS || now < cached.signedAt) {
    cached = { token: await signChainToken(secret, lineage), signedAt: now };
    if (chainTokens.size >= MAX_CHAIN_TOKENS) chainTokens.clear();
    chainTokens.set(key, cached);
  }
  return withRequestId(cached.token, lineage.requestId);
}

function signChainToken(secret: string, chain: Omit<Lineage, "requestId">): Promise<string> {
  return signToken(secret, { f: chain.functionArn, c: chain.counts, t: Math.floor(Date.now() / 1000) });
}

const withRequestId = (chainToken: string, requestId: string) => `${chainToken}~${encodeURIComponent(requestId)}`;

/** The lineage a token carries, or null when it is malformed, forged, tampered with or expired. */
export async function verifyInvocationToken(secret: string, token: string): Promise<Lineage | null> {
  const cut = token.indexOf("~");
  if (cut < 0) return null;
  let requestId: string;
  try {
    requestId = decodeURIComponent(token.slice(cut + 1));
  } catch {
    return null;
  }
  const body = await openToken(secret, token.slice(0, cut));
  if (typeof body !== "object" || body === null) return null;
  const { f, c, t } = body as Record<string, unknown>;
  if (typeof f !== "string" || typeof t !== "number") return null;
  const counts = validCounts(c);
  if (counts === null) return null;
  const age = Date.now() / 1000 - t;
  if (age > MAX_TOKEN_AGE_SECONDS || age < -60) return null;
  return { requestId, functionArn: f, counts };
}

/** Entries kept in a Lineage field: the header stays short however long the chain. */
export const MAX_LINEAGE_ENTRIES = 10;
const HASH = /^[0-9a-f]{8}$/;

function validCounts(value: unknown): LineageCounts | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_LINEAGE_ENTRIES) return null;
  for (const [hash, count] of entries) {
    if (!HASH.test(hash) || typeof count !== "number" || !Number.isInteger(count) || count < 0) return null;
  }
  return value as LineageCounts;
}

/**
 * The `X-Amzn-Trace-Id` value for an outgoing request of `lineage`.
 *
 * `Root=1-<8 hex epoch seconds>-<24 hex>` is the documented X-Ray trace id.
 * The 24 hex digits come from the request id (a UUID) so that every request
 * of one invocation carries the same trace, as under Lambda.
 *
 * `Lineage=<8 hex hash of a function ARN>:<count>|...` — UNCONFIRMED encoding.
 * AWS does not document the Lineage field. Headers seen in the wild look like
 * `Lineage=037bed70:0` and `Lineage=a87bd80c:1|68fd508a:5` (one hash:counter
 * per function, "|"-separated), and newer ones like `Lineage=1:fe460cdd:0`
 * (the OpenTelemetry Java X-Ray propagator reads those as
 * loop-counter:hash:request-counter). The hash algorithm is unknown, so ours
 * (FNV-1a based, src/placement/hash.ts) only has to agree with cellfn's own
 * frontend. We write the invocation's own entries (every function of its
 * chain, see LineageCounts); a Lineage already in the header was written by
 * user code and is replaced.
 *
 * When `existing` (the request's own header) has a well-formed Root, it is
 * kept with its other fields (Parent, Sampled, ...), and Lineage is replaced.
 */
export function lineageHeader(lineage: Lineage, existing?: string | null): string {
  const lineageField = `Lineage=${formatCounts(lineage.counts)}`;
  const fields = fieldsOtherThanLineage(existing ?? "");
  const hasRoot = fields.some((field) => ROOT_FIELD.test(field));
  const kept = hasRoot ? fields : [`Root=${traceRoot(lineage.requestId)}`];
  return [...kept, lineageField].join(";");
}

/** The header without any Lineage field (null when nothing else is left). */
export function withoutLineage(existing: string): string | null {
  const fields = fieldsOtherThanLineage(existing);
  return fields.length > 0 ? fields.join(";") : null;
}

function fieldsOtherThanLineage(header: string): string[] {
  return header
    .split(";")
    .map((field) => field.trim())
    .filter((field) => field !== "" && !/^lineage=/i.test(field));
}

/** `hash:count|hash:count`, the largest counts first, at most MAX_LINEAGE_ENTRIES of them. */
export function formatCounts(counts: LineageCounts): string {
  return Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .slice(0, MAX_LINEAGE_ENTRIES)
    .map(([hash, count]) => `${hash}:${count}`)
    .join("|");
}

/** The counts of a Lineage field written by `lineageHeader`, or null when there is none or it is malformed. */
export function readLineage(header: string): LineageCounts | null {
  const match = /(?:^|;)\s*Lineage=([^;]*?)\s*(?:;|$)/i.exec(header);
  if (match?.[1] === undefined) return null;
  const counts: Record<string, number> = {};
  const entries = match[1].split("|");
  if (entries.length > MAX_LINEAGE_ENTRIES) return null;
  for (const entry of entries) {
    const parsed = /^([0-9a-f]{8}):(\d{1,5})$/i.exec(entry);
    if (!parsed?.[1] || !parsed[2]) return null;
    const hash = parsed[1].toLowerCase();
    counts[hash] = Math.max(counts[hash] ?? 0, Number(parsed[2]));
  }
  return counts;
}

/** 8 lower-case hex digits identifying a function in the Lineage field. */
export function arnHash(functionArn: string): string {
  return hash32(functionArn).toString(16).padStart(8, "0");
}

const ROOT_FIELD = /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/i;

function traceRoot(requestId: string): string {
  const epoch = Math.floor(Date.now() / 1000).toString(16).padStart(8, "0");
  const fromId = requestId.toLowerCase().replace(/[^0-9a-f]/g, "");
  const unique = fromId.length >= 24 ? fromId.slice(0, 24) : toHex(crypto.getRandomValues(new Uint8Array(12)));
  return `1-${epoch}-${unique}`;
}

/**
 * `_X_AMZN_TRACE_ID` of one invocation, as Lambda sets it:
 * `Root=1-<epoch hex>-<24 hex>;Parent=<16 hex>;Sampled=0` (X-Ray is not
 * sampled here). The Root comes from the request id, like the header the
 * egress gateway stamps, so an SDK call that forwards it keeps one trace.
 */
export function invocationTraceId(requestId: string): string {
  const parent = toHex(crypto.getRandomValues(new Uint8Array(8)));
  return `Root=${traceRoot(requestId)};Parent=${parent};Sampled=0`;
}
