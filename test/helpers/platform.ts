import { AwsClient } from "aws4fetch";
import { env, exports } from "cloudflare:workers";
import { TEST_API_REQUEST_RATE } from "../fixtures/tenant-limits";
import { makeZipBase64 } from "../fixtures/zips";

/**
 * Drives the real Worker (its default export, inside workerd with real D1,
 * R2 and Worker Loader bindings) the way clients do: the admin API with the
 * operator token, the Lambda API with a tenant key over SigV4 or a bearer token.
 */

export const BASE = "http://cellfn.test";
export const ROLE = "arn:aws:iam::123456789012:role/lambda-role";

export interface TenantKey {
  tenantId: string;
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
  token: string;
}

export async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return exports.default.fetch(`${BASE}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

let counter = 0;
/** A fresh tenant with one key; names are unique per test run. */
export async function newTenant(scope: "full" | "invoke" = "full", prefix = "tenant", limits: Record<string, number> = {}): Promise<TenantKey> {
  const name = `${prefix}-${Date.now().toString(36)}-${counter++}`;
  const tenantRes = await admin("POST", "/tenants", { name, apiRequestRate: TEST_API_REQUEST_RATE, ...limits });
  if (tenantRes.status !== 201) throw new Error(`create tenant: ${tenantRes.status} ${await tenantRes.text()}`);
  const tenant = await tenantRes.json<{ tenantId: string; accountId: string }>();
  const key = await addKey(tenant.tenantId, scope);
  return { tenantId: tenant.tenantId, accountId: tenant.accountId, ...key };
}

export async function addKey(tenantId: string, scope: "full" | "invoke" = "full") {
  const res = await admin("POST", `/tenants/${tenantId}/keys`, { name: `key-${counter++}`, scope });
  if (res.status !== 201) throw new Error(`create key: ${res.status} ${await res.text()}`);
  return res.json<{ accessKeyId: string; secretAccessKey: string; token: string }>();
}

/** A Lambda API call signed with SigV4, as the AWS CLI and SDKs send it. */
export async function signed(key: TenantKey, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const client = new AwsClient({
    accessKeyId: key.accessKeyId,
    secretAccessKey: key.secretAccessKey,
    service: "lambda",
    region: "us-east-1",
  });
  const request = await client.sign(`${BASE}${path}`, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return exports.default.fetch(request);
}

/** A Lambda API call with the bearer token, as curl users send it. */
export async function bearer(key: TenantKey, method: string, path: string, body?: unknown): Promise<Response> {
  return exports.default.fetch(`${BASE}${path}`, {
    method,
    headers: { authorization: `Bearer ${key.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Reads an error response and checks it has the AWS shape. */
export async function errorOf(res: Response): Promise<{ status: number; type: string | null; message: string }> {
  const body = await res.json<Record<string, string>>();
  return { status: res.status, type: res.headers.get("x-amzn-ErrorType"), message: body.message ?? body.Message ?? "" };
}

export const fn = (name: string) => `/2015-03-31/functions/${encodeURIComponent(name)}`;

/** A CreateFunction body for a Node.js 22 zip handler at index.handler. */
export function createFunctionBody(name: string, files: Record<string, string>, extra: Record<string, unknown> = {}) {
  return {
    FunctionName: name,
    Role: ROLE,
    Runtime: "nodejs22.x",
    Handler: "index.handler",
    Code: { ZipFile: makeZipBase64(files) },
    ...extra,
  };
}

/** R2 key of the stored bundle whose code contains `needle`, if any. */
export async function bundleContaining(needle: string): Promise<string | undefined> {
  let cursor: string | undefined;
  do {
    const page = await env.CODE.list({ prefix: "bundles/", ...(cursor === undefined ? {} : { cursor }) });
    for (const object of page.objects) {
      const body = await env.CODE.get(object.key);
      if (body && (await body.text()).includes(needle)) return object.key;
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor !== undefined);
  return undefined;
}

/**
 * GetFunction's answer with `Code.Location` reduced to its path (the package's
 * hash): the presigned query changes every second, the package does not.
 */
export async function getFunctionState(key: TenantKey, name: string): Promise<unknown> {
  const res = await signed(key, "GET", fn(name));
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GetFunction ${name}: expected 200, got ${res.status}: ${text}`);
  const body = JSON.parse(text) as { Code?: { Location?: string } };
  if (body.Code?.Location) body.Code.Location = new URL(body.Code.Location).pathname;
  return body;
}

/** A JSON-protocol call (SQS, Kinesis, CloudWatch Logs) signed for `service`, as the SDKs send it; a string input is sent as is. */
export async function awsJson(
  key: TenantKey,
  service: string,
  target: string,
  input: unknown,
): Promise<{ status: number; contentType: string | null; body: Record<string, unknown> }> {
  const client = new AwsClient({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, service, region: "us-east-1" });
  const request = await client.sign(`${BASE}/`, {
    method: "POST",
    headers: { "x-amz-target": target, "content-type": "application/x-amz-json-1.1" },
    body: typeof input === "string" ? input : JSON.stringify(input),
  });
  const res = await exports.default.fetch(request);
  return { status: res.status, contentType: res.headers.get("content-type"), body: await res.json<Record<string, unknown>>() };
}

/** How long a test waits for a function to settle (bundling runs after CreateFunction / Update* answer). */
const SETTLE_TIMEOUT_MS = 30_000;
const SETTLE_POLL_MS = 50;

/**
 * Polls GetFunctionConfiguration until the function is no longer `Pending`
 * and no update is `InProgress`, as `aws lambda wait function-active-v2` /
 * `function-updated-v2` do, and returns the settled configuration.
 */
export async function waitUntilSettled(key: TenantKey, name: string, qualifier?: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  const query = qualifier === undefined ? "" : `?Qualifier=${encodeURIComponent(qualifier)}`;
  for (;;) {
    const res = await signed(key, "GET", `${fn(name)}/configuration${query}`);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GetFunctionConfiguration ${name}: ${res.status} ${text}`);
    const config = JSON.parse(text) as Record<string, unknown>;
    if (config.State !== "Pending" && config.LastUpdateStatus !== "InProgress") return config;
    if (Date.now() > deadline) throw new Error(`${name} did not settle: ${text}`);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
  }
}

/** CreateFunction, then wait until it is Active (throws with the answer otherwise), as a user's script does. */
export async function createActive(key: TenantKey, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await signed(key, "POST", "/2015-03-31/functions", body);
  if (res.status !== 201) throw new Error(`CreateFunction: ${res.status} ${await res.text()}`);
  const config = await waitUntilSettled(key, String(body.FunctionName));
  if (config.State !== "Active") throw new Error(`CreateFunction ${String(body.FunctionName)} ended ${JSON.stringify(config)}`);
  return config;
}

/** A signed Update* call that then waits for LastUpdateStatus to settle; returns the call's response. */
export async function updateAndWait(key: TenantKey, method: string, path: string, name: string, body: unknown): Promise<Response> {
  const res = await signed(key, method, path, body);
  if (res.status === 200) await waitUntilSettled(key, name);
  return res;
}
