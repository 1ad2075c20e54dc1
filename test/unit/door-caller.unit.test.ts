import { describe, expect, it } from "vitest";
import { requestCaller } from "../../src/invoke/door-caller";

const SETTINGS = { REGION: "us-east-1", FUNCTION_URL_DOMAIN: "localhost" };
const KNOWN: Record<string, { tenant: string; fresh: boolean }> = { AKIAKNOWN: { tenant: "t-1", fresh: true }, AKIASTALE: { tenant: "t-2", fresh: false } };
const tenantOf = (id: string) => KNOWN[id];

function call(method: string, path: string, headers: Record<string, string> = {}, host = "localhost:8787") {
  return requestCaller(new Request(`http://${host}${path}`, { method, headers: { host, ...headers } }), SETTINGS, tenantOf);
}

const SIGV4 = (id: string, service: string) => `AWS4-HMAC-SHA256 Credential=${id}/20261204/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`;
const json = (target: string, id = "AKIAKNOWN") => ({ "x-amz-target": target, authorization: SIGV4(id, "sqs") });

describe("the door's naming rule: which requests it gates, who their caller is, which service answers", () => {
  it("names every Lambda API route, not only invokes, after the cached key's tenant, else the key id, else anonymous", () => {
    expect(call("POST", "/2015-03-31/functions", { authorization: "Bearer AKIAKNOWN.secret" })).toEqual({ name: "tenant:t-1", authenticated: true, answer: { kind: "lambda" }, invoke: false, holds: true });
    expect(call("GET", "/2015-03-31/functions/f", { authorization: "Bearer AKIAOTHER.secret" })).toMatchObject({ name: "key:AKIAOTHER", answer: { kind: "lambda" }, invoke: false });
    expect(call("GET", "/2015-03-31/functions/f", { authorization: "Bearer AKIAOTHER.secret" })?.authenticated).toBeUndefined();
    expect(call("DELETE", "/2015-03-31/functions/f")).toMatchObject({ name: "anonymous", answer: { kind: "lambda" } });
    // A key found before but out of the cache now keeps its tenant's name (one name, one share), without the right to borrow.
    expect(call("GET", "/2015-03-31/functions", { authorization: "Bearer AKIASTALE.secret" })).toEqual({ name: "tenant:t-2", answer: { kind: "lambda" }, invoke: false, holds: true });
    // Other API dates, the durable data plane, account settings, cellfn's extensions.
    for (const path of ["/2018-10-31/layers", "/2025-12-01/durable-executions/arn/checkpoint", "/2016-08-19/account-settings", "/cellfn/v1/failed-events"]) {
      expect(call("GET", path, { authorization: SIGV4("AKIAKNOWN", "lambda") }), path).toMatchObject({ name: "tenant:t-1", answer: { kind: "lambda" }, invoke: false });
    }
  });

  it("tells invokes apart: a sync Invoke is `api` (routed straight to its handler); a stream invoke, a URL and the console's test invoke are invokes", () => {
    expect(call("POST", "/2015-03-31/functions/f/invocations", { authorization: "Bearer AKIAKNOWN.secret" })).toMatchObject({ name: "tenant:t-1", invoke: true, api: true });
    expect(call("POST", "/2021-11-15/functions/f/response-streaming-invocations")).toMatchObject({ name: "anonymous", invoke: true });
    expect(call("POST", "/2021-11-15/functions/f/response-streaming-invocations")?.api).toBeUndefined();
    expect(call("GET", "/2015-03-31/functions/f/invocations")).toMatchObject({ invoke: false });
    expect(call("POST", "/console/functions/f/invoke")).toEqual({ name: "console", answer: { kind: "lambda" }, invoke: true, holds: true });
    const urlId = "a".repeat(32);
    expect(call("GET", "/anything", {}, `${urlId}.lambda-url.us-east-1.localhost:8787`)).toEqual({ name: `url:${urlId}`, answer: { kind: "url" }, invoke: true, holds: true });
  });

  it("names the JSON services by X-Amz-Target and answers in that service's shape; an SQS long poll gives its slot back", () => {
    const sqs = call("POST", "/", json("AmazonSQS.SendMessage"));
    expect(sqs).toMatchObject({ name: "tenant:t-1", invoke: false, holds: true });
    expect(sqs?.answer.kind === "json" && sqs.answer.service.targetPrefix).toBe("AmazonSQS");
    expect(call("POST", "/", json("AmazonSQS.ReceiveMessage"))).toMatchObject({ name: "tenant:t-1", holds: false });
    for (const [target, prefix] of [["Kinesis_20131202.PutRecord", "Kinesis_20131202"], ["Logs_20140328.PutLogEvents", "Logs_20140328"], ["GraniteServiceVersion20100801.ListMetrics", "GraniteServiceVersion20100801"]] as const) {
      const caller = call("POST", "/", json(target, "AKIAOTHER"));
      expect(caller, target).toMatchObject({ name: "key:AKIAOTHER", holds: true });
      expect(caller?.answer.kind === "json" && caller.answer.service.targetPrefix, target).toBe(prefix);
    }
    expect(call("POST", "/service/GraniteServiceVersion20100801/operation/ListMetrics", { authorization: SIGV4("AKIAKNOWN", "monitoring") })).toMatchObject({ name: "tenant:t-1", answer: { kind: "cbor" } });
  });

  it("lets through ungated what is not a tenant's API request: health, admin, console pages, downloads, unknown targets and paths", () => {
    expect(call("GET", "/healthz")).toBeUndefined();
    expect(call("POST", "/admin/tenants", { authorization: "Bearer admin" })).toBeUndefined();
    expect(call("GET", "/console/functions/f")).toBeUndefined();
    expect(call("POST", "/console/functions/f")).toBeUndefined();
    expect(call("GET", "/cellfn/code/abc")).toBeUndefined();
    expect(call("POST", "/", json("NoSuchService.Op"))).toBeUndefined();
    expect(call("POST", "/", {})).toBeUndefined();
    expect(call("GET", "/", json("AmazonSQS.SendMessage"))).toBeUndefined();
    expect(call("GET", "/favicon.ico")).toBeUndefined();
    // A malformed function URL host is answered by the URL front door, ungated as today.
    expect(call("GET", "/", {}, "nope.lambda-url.us-east-1.localhost")).toBeUndefined();
  });
});
