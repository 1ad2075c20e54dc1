/**
 * Fuzzing, second slice (issue 19): every Lambda REST route the app serves
 * (enumerated from the Hono app, so a new route is fuzzed without a change
 * here) gets generated bad requests: odd path labels (encoded slashes and
 * NULs, `..`, over-long, non-ASCII, broken percent-escapes, foreign ARNs),
 * odd query strings, wrong content types, a huge header, and bodies that no
 * operation accepts (broken JSON, non-objects, fields of impossible types).
 * Invariants: never a 5xx, always Lambda's error shape (`x-amzn-ErrorType`
 * and a JSON body with a message), and the tenant's resources unchanged.
 *
 * The tenant's real function is named in a path only with a bad body, or by
 * GET (a bad body must be refused whatever the name; a GET changes nothing);
 * DELETE and the invoke routes get only labels that name nothing.
 */
import { exports } from "cloudflare:workers";
import { AwsClient } from "aws4fetch";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app";
import type { TenantKey } from "../helpers/platform";
import { BASE, createActive, createFunctionBody, fn, newTenant, signed } from "../helpers/platform";

/** Generated cases per route: keep the whole file well under a minute in workerd. */
const RUNS_PER_ROUTE = 6;
const REAL = "fuzz-target";

const oddLabel = fc.constantFrom(
  "%00",
  "a%2Fb",
  "..",
  "%2E%2E%2F%2E%2E",
  "x".repeat(300),
  "%C3%A9t%C3%A9",
  "%E0%A4%A",
  "%",
  "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aother",
  "arn%3Aaws%3Alambda%3Aeu-west-9%3A123456789012%3Afunction%3Ax",
  "%24latest",
  "name%3A%3A%3A",
  "%20",
  "fn%3A" + "9".repeat(40),
);

const oddQuery = fc.constantFrom("", "?Qualifier=%00", "?MaxItems=-1", "?MaxItems=100000&Marker=%FF", "?Marker=" + "z".repeat(2000), "?Qualifier=" + "q".repeat(200), "?FunctionVersion=ALLX");

const IMPOSSIBLE = fc.constantFrom<unknown>(-1e300, 1.5e308, "s".repeat(70_000), [[[[]]]], { deeply: { nested: [{ x: -1e300 }] } });
const FIELDS = ["FunctionName", "Description", "Timeout", "MemorySize", "Environment", "Code", "ZipFile", "Tags", "Name", "FunctionVersion", "RoutingConfig", "ReservedConcurrentExecutions", "StatementId", "Action", "Principal", "AuthType", "Cors", "Content", "CompatibleRuntimes", "MaximumRetryAttempts", "DestinationConfig", "ProvisionedConcurrentExecutions", "RecursiveLoop", "UpdateRuntimeOn", "Reason", "Error", "LoggingConfig", "Layers"];

/** Bodies no operation accepts: not JSON, not an object, or a field of a type no operation takes. */
const badBody = fc.oneof(
  fc.constantFrom("{", "[]", "null", "42", '"text"', '{"a":', "\u0000", "{}}"),
  fc.dictionary(fc.constantFrom(...FIELDS), IMPOSSIBLE, { minKeys: 1, maxKeys: 3 }).map((o) => JSON.stringify(o)),
);
const contentType = fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-16", "");

let key: TenantKey;
let generated = 0;
let refused = 0;

/** Lambda's REST routes (dated API paths), as `METHOD path` from the app. */
function lambdaRoutes(): Array<{ method: string; path: string }> {
  const seen = new Set<string>();
  return buildApp()
    .routes.filter((r) => r.method !== "ALL" && /^\/20\d\d-\d\d-\d\d\//.test(r.path))
    .filter((r) => !seen.has(`${r.method} ${r.path}`) && seen.add(`${r.method} ${r.path}`))
    .map((r) => ({ method: r.method, path: r.path }));
}

function fill(path: string, label: (param: string) => string): string {
  return path.replaceAll(/:([A-Za-z]+)(\{[^}]*\})?/g, (_, param: string) => label(param));
}

async function send(method: string, path: string, type: string, body: string | undefined, hugeHeader: boolean): Promise<Response> {
  const client = new AwsClient({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, service: "lambda", region: "us-east-1" });
  const headers: Record<string, string> = type ? { "content-type": type } : {};
  if (hugeHeader) headers["x-fuzz"] = "h".repeat(16_000);
  return exports.default.fetch(await client.sign(`${BASE}${path}`, { method, headers, body }));
}

/** What the tenant has, with volatile fields (presigned URLs) left out. */
async function snapshot(): Promise<string[]> {
  const out: string[] = [];
  for (const path of [
    "/2015-03-31/functions",
    `${fn(REAL)}/configuration`,
    `${fn(REAL)}/versions`,
    `${fn(REAL)}/aliases`,
    `${fn(REAL)}/policy`,
    `${fn(REAL)}/concurrency`.replace("/2015-03-31/", "/2019-09-30/"),
    `/2019-09-25/functions/${REAL}/event-invoke-config`,
    `/2021-10-31/functions/${REAL}/urls`,
    "/2018-10-31/layers",
    "/2015-03-31/event-source-mappings",
  ]) {
    const res = await signed(key, "GET", path);
    out.push(`${path} ${res.status} ${await res.text()}`);
  }
  return out;
}

let before: string[];
beforeAll(async () => {
  key = await newTenant("full", "fuzzrest");
  await createActive(key, createFunctionBody(REAL, { "index.js": "exports.handler = async () => 1;" }));
  before = await snapshot();
}, 60_000);

describe("generated bad requests to every Lambda REST route", () => {
  for (const route of lambdaRoutes()) {
    const name = `${route.method} ${route.path}`;
    const mayNameReal = route.method === "GET" || ((route.method === "POST" || route.method === "PUT" || route.method === "PATCH") && !route.path.includes("invocations") && !route.path.includes("durable-execution-callbacks"));
    const hasBody = route.method !== "GET" && route.method !== "DELETE" && route.method !== "HEAD";
    it(name, async () => {
      await fc.assert(
        fc.asyncProperty(fc.boolean(), oddLabel, oddQuery, contentType, badBody, fc.boolean(), async (useReal, label, query, type, body, huge) => {
          generated++;
          const path = fill(route.path, (param) => (useReal && mayNameReal && /function/i.test(param) ? REAL : label)) + query;
          const res = await send(route.method, path, type, hasBody ? body : undefined, huge);
          const text = await res.text();
          const what = `${route.method} ${path.slice(0, 120)} ${hasBody ? body.slice(0, 60) : ""} -> ${res.status} ${text.slice(0, 200)}`;
          expect(res.status, what).toBeLessThan(500);
          // GETs of odd but well-formed names may succeed on list routes (e.g. a query the route ignores).
          if (res.status < 400) return;
          refused++;
          expect(res.headers.get("x-amzn-ErrorType"), what).toMatch(/^[A-Za-z]+(Exception|Error|Fault)?$/);
          const json = JSON.parse(text) as Record<string, unknown>;
          expect(typeof (json.message ?? json.Message), what).toBe("string");
        }),
        { numRuns: RUNS_PER_ROUTE },
      );
    });
  }

  it("left the tenant's resources as they were", async () => {
    expect(await snapshot()).toEqual(before);
    console.log(`fuzz-lambda-routes: ${generated} generated cases over ${lambdaRoutes().length} routes, ${refused} refused`);
    // Almost every generated request is bad: a fuzz whose requests mostly succeed tests nothing.
    expect(refused).toBeGreaterThan(generated * 0.8);
  });
});
