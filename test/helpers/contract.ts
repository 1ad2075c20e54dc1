import { expect } from "vitest";
import { makeZipBase64 } from "../fixtures/zips";
import type { AwsRecording } from "./aws-recording";
import type { TenantKey } from "./platform";
import { fn, signed, waitUntilSettled } from "./platform";

/**
 * Inputs shared by the contract suites (test/integration/contract-*.integration.test.ts), which
 * replay LocalStack's AWS-validated tests with the same calls and inputs.
 */

/** The recorded tests ran Python functions; cellfn runs Node.js, so these recorded values are cellfn's runtimes. */
export const NODE_FOR_PYTHON = { "python3.12": "nodejs22.x", "python3.11": "nodejs20.x" };

/** LocalStack's echo handler (lambda_echo.py) in Node.js. */
export const ECHO_HANDLER = "exports.handler = async (event) => event;";

/**
 * The CreateFunction body LocalStack's `create_lambda_function` fixture sends: `handler.handler`,
 * Timeout 30, MemorySize 128 and an empty `Environment` unless the test says otherwise; the role
 * is in the caller's account.
 */
export function contractFunction(key: TenantKey, name: string, extra: Record<string, unknown> = {}, code = ECHO_HANDLER) {
  return {
    FunctionName: name,
    Role: `arn:aws:iam::${key.accountId}:role/lambda-role`,
    Runtime: "nodejs22.x",
    Handler: "handler.handler",
    Code: { ZipFile: makeZipBase64({ "handler.js": code }) },
    Timeout: 30,
    MemorySize: 128,
    Environment: { Variables: {} },
    ...extra,
  };
}

/** Every item of a list operation read one item a page, as botocore's paginator with PageSize 1 (`build_full_result`). */
export async function pageAll(key: TenantKey, path: string, field: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let marker: string | undefined;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const res = await signed(key, "GET", `${path}${separator}MaxItems=1${marker ? `&Marker=${encodeURIComponent(marker)}` : ""}`);
    expect(res.status).toBe(200);
    const page = await res.json<Record<string, unknown>>();
    items.push(...((page[field] as Record<string, unknown>[] | undefined) ?? []));
    marker = page.NextMarker as string | undefined;
  } while (marker !== undefined);
  return items;
}

/** The CreateFunction body of LocalStack's `create_lambda_function_aws` (the API's own defaults: Timeout 3, MemorySize 128). */
export function directFunction(key: TenantKey, name: string, extra: Record<string, unknown> = {}) {
  return {
    FunctionName: name,
    Handler: "index.handler",
    Code: { ZipFile: makeZipBase64({ "index.js": ECHO_HANDLER }) },
    PackageType: "Zip",
    Role: `arn:aws:iam::${key.accountId}:role/lambda-role`,
    Runtime: "nodejs22.x",
    ...extra,
  };
}

/** Members the model types as strings holding JSON (AddPermission's `Statement`, GetPolicy's `Policy`): a string on the wire, read as the recordings hold it. */
export function parsedJsonMembers<T extends Record<string, unknown>>(answer: T, members: string[]): T {
  const out: Record<string, unknown> = { ...answer };
  for (const member of members) {
    if (!(member in out)) continue;
    expect(typeof out[member], `${member} is a JSON string`).toBe("string");
    out[member] = JSON.parse(String(out[member]));
  }
  return out as T;
}

/**
 * The opening of LocalStack's alias tests: create with `testenv=staging`, publish version 1, change
 * the environment to `prod`, publish version 2; each recorded answer matched (create_response,
 * publish_v1, publish_v2).
 */
export async function createWithTwoVersions(key: TenantKey, aws: AwsRecording, name: string, extra: Record<string, unknown> = {}): Promise<void> {
  const created = await signed(key, "POST", "/2015-03-31/functions", directFunction(key, name, { ...extra, Environment: { Variables: { testenv: "staging" } } }));
  await aws.matchResponse("create_response", created);
  await waitUntilSettled(key, name);
  await aws.matchResponse("publish_v1", await signed(key, "POST", `${fn(name)}/versions`, {}));
  expect((await signed(key, "PUT", `${fn(name)}/configuration`, { Environment: { Variables: { testenv: "prod" } } })).status).toBe(200);
  await waitUntilSettled(key, name);
  await aws.matchResponse("publish_v2", await signed(key, "POST", `${fn(name)}/versions`, {}));
}
