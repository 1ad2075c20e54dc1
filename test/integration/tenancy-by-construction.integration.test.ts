/**
 * Tenancy by construction (issue 19): the routes come from the Hono app and
 * the JSON operations from the service registry, so a route or operation
 * added without a case here fails the suite. For each case, tenant B (by its
 * key and by in-function session credentials) names tenant A's resources in
 * every form the route accepts; each answer must equal, modulo the name, what
 * B gets for a resource that does not exist in the same form. A's resources
 * are read back by A before and after: nothing B sent changed them.
 */
import { env, exports } from "cloudflare:workers";
import { AwsClient } from "aws4fetch";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app";
import { JSON_SERVICES } from "../../src/aws-json/registry";
import { DOWNLOAD_MOUNT } from "../../src/code/download-url";
import { mintSessionCredentials } from "../../src/auth/session-credentials";
import type { CallbackRef } from "../../src/durable/names";
import { callbackIdOf, parseCallbackId } from "../../src/durable/names";
import { CBOR_SERVICE_PATH } from "../../src/metrics/cbor-routes";
import { decodeCbor, encodeCbor } from "../../src/metrics/cbor";
import type { TenantKey } from "../helpers/platform";
import { BASE, createActive, createFunctionBody, newTenant } from "../helpers/platform";

interface Principal {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

interface Req {
  method: string;
  path: string;
  body?: unknown;
  /** JSON-protocol call: signing name and X-Amz-Target; otherwise a Lambda REST call. */
  json?: { service: string; target: string; contentType: string };
  /** Another origin than the API's (a function URL host). */
  origin?: string;
  /** A raw body, sent as is. */
  raw?: string;
  /** CloudWatch in smithy-rpc-v2-cbor (SDK v3): the body is CBOR-encoded. */
  cbor?: true;
  /** A console page: sent with the caller's console session cookie (and form token, for a POST form). */
  console?: { form?: Record<string, string> };
}

/** What a route names: each kind has forms, each form a (victim, absent) pair of same-shaped identifiers. */
type Kind =
  | "function"
  | "functionArn"
  | "functionUrl"
  | "queueUrl"
  | "queueArn"
  | "queueName"
  | "stream"
  | "streamArn"
  | "shardIterator"
  | "logGroup"
  | "esm"
  | "queryId"
  | "layer"
  | "layerOfA"
  | "layerVersion"
  | "layerVersionArn"
  | "execution"
  | "callbackId"
  | "none";

interface Case {
  kind: Kind;
  /** A console page: B's console session is the caller. */
  console?: true;
  request: (id: string) => Req;
  /** A list filtered by a name: an unknown name gets an empty list (200), so a success is the "nonexistent" answer. */
  emptyListWhenUnknown?: true;
  /**
   * Equal answers suffice: `success` where both succeed (metrics of a series
   * nobody wrote are empty), `any` where the answer may be either (an
   * idempotent delete: 204 in B's namespace, 403 naming A's account).
   */
  answersAlike?: "success" | "any";
}

const VICTIM = "victimfn";
const ABSENT = "absentfn"; // same length as VICTIM
const GRANTED = "grantedf";
const DURABLE_FN = "victimdr";
const LAYER = "victiml";
const SHARED_LAYER = "victimsh";
const CODE = { "index.js": "exports.handler = async (event) => ({ ok: true, event });" };
/** A durable function that starts one callback and waits for it: A's execution stays RUNNING with a callback id. */
const AWAITS_CALLBACK = `
const { LambdaClient, CheckpointDurableExecutionCommand } = require("@aws-sdk/client-lambda");
exports.handler = async (event) => {
  const updates = [{ Id: "cb-1", Type: "CALLBACK", Action: "START", CallbackOptions: { TimeoutSeconds: 900 } }];
  await new LambdaClient({}).send(new CheckpointDurableExecutionCommand({ DurableExecutionArn: event.DurableExecutionArn, CheckpointToken: event.CheckpointToken, Updates: updates }));
  return { Status: "PENDING" };
};`;
const FAKE_UUID = "00000000-0000-4000-8000-000000000000";

/** Routes that are not tenant-scoped, and why. Keys are `METHOD path` as Hono lists them. */
const EXEMPT: Record<string, string> = {
  "GET /healthz": "liveness probe; no tenant data",
  "GET /admin/tenants": "operator API, admin token only (B's key gets 401)",
  "POST /admin/tenants": "operator API, admin token only",
  "GET /admin/tenants/:tenantId": "operator API, admin token only",
  "PATCH /admin/tenants/:tenantId": "operator API, admin token only",
  "POST /admin/tenants/:tenantId/keys": "operator API, admin token only",
  "GET /admin/tenants/:tenantId/keys": "operator API, admin token only",
  "DELETE /admin/tenants/:tenantId/keys/:accessKeyId": "operator API, admin token only",
  "GET /admin/cells": "operator API, admin token only",
  "GET /admin/metrics": "operator API, admin token only",
  "GET /admin/cells/:cell": "operator API, admin token only",
  "PATCH /admin/cells/:cell": "operator API, admin token only",
  "PUT /admin/tenants/:tenantId/sideline": "operator API, admin token only",
  "GET /admin/tenants/:tenantId/leases": "operator API, admin token only",
  "GET /cellfn/v1/destination-signing-key": "returns the caller's own tenant's key; takes no resource name",
  "GET /console/assets/:file": "static assets (uPlot, the console's script and styles); no tenant data",
  "GET /console": "redirects by the session's kind; names no resource",
  "GET /console/login": "the sign-in form; names no resource",
  "POST /console/login": "sign-in with the caller's own key id and secret; names no resource (in-function credentials are refused, tested below)",
  "POST /console/logout": "clears the caller's own cookie; names no resource",
  "GET /console/operator": "operator session only: B's console session is sent to sign-in (tested below)",
};

const L = "/2015-03-31/functions";
const U = "/2021-10-31/functions";
const LY = "/2018-10-31/layers";
const D = "/2025-12-01";
/** A checkpoint token of the right shape that no execution issued. */
const FAKE_TOKEN = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const rest = (method: string, path: string, body?: unknown): Req => ({ method, path, body });
const enc = encodeURIComponent;

/** Lambda REST routes, by `METHOD path` as Hono lists them. */
const REST_CASES: Record<string, Case> = {
  [`POST ${L}/:FunctionName/invocations`]: { kind: "function", request: (f) => rest("POST", `${L}/${enc(f)}/invocations`, {}) },
  [`POST /2021-11-15/functions/:FunctionName/response-streaming-invocations`]: { kind: "function", request: (f) => rest("POST", `/2021-11-15/functions/${enc(f)}/response-streaming-invocations`, {}) },
  [`GET ${L}/:FunctionName/aliases`]: { kind: "function", request: (f) => rest("GET", `${L}/${enc(f)}/aliases`) },
  [`POST ${L}/:FunctionName/aliases`]: { kind: "function", request: (f) => rest("POST", `${L}/${enc(f)}/aliases`, { Name: "other", FunctionVersion: "1" }) },
  [`GET ${L}/:FunctionName/aliases/:Name`]: { kind: "function", request: (f) => rest("GET", `${L}/${enc(f)}/aliases/live`) },
  [`PUT ${L}/:FunctionName/aliases/:Name`]: { kind: "function", request: (f) => rest("PUT", `${L}/${enc(f)}/aliases/live`, { Description: "b was here" }) },
  [`DELETE ${L}/:FunctionName/aliases/:Name`]: { kind: "function", request: (f) => rest("DELETE", `${L}/${enc(f)}/aliases/live`) },
  [`GET ${L}/:FunctionName/policy`]: { kind: "function", request: (f) => rest("GET", `${L}/${enc(f)}/policy`) },
  [`POST ${L}/:FunctionName/policy`]: { kind: "function", request: (f) => rest("POST", `${L}/${enc(f)}/policy`, { StatementId: "b-grab", Action: "lambda:InvokeFunction", Principal: "*" }) },
  [`DELETE ${L}/:FunctionName/policy/:StatementId`]: { kind: "function", request: (f) => rest("DELETE", `${L}/${enc(f)}/policy/s3-grant`) },
  [`GET ${L}`]: { kind: "none", request: () => rest("GET", `${L}?FunctionVersion=ALL`) },
  [`POST ${L}`]: { kind: "none", request: () => rest("POST", L, createFunctionBody("b-own-new", CODE)) },
  [`GET ${L}/:FunctionName`]: { kind: "function", request: (f) => rest("GET", `${L}/${enc(f)}`) },
  [`DELETE ${L}/:FunctionName`]: { kind: "function", request: (f) => rest("DELETE", `${L}/${enc(f)}`) },
  [`GET ${L}/:FunctionName/configuration`]: { kind: "function", request: (f) => rest("GET", `${L}/${enc(f)}/configuration`) },
  [`PUT ${L}/:FunctionName/configuration`]: { kind: "function", request: (f) => rest("PUT", `${L}/${enc(f)}/configuration`, { Description: "b was here" }) },
  [`PUT ${L}/:FunctionName/code`]: { kind: "function", request: (f) => rest("PUT", `${L}/${enc(f)}/code`, { ZipFile: createFunctionBody("x", CODE).Code.ZipFile }) },
  [`POST ${L}/:FunctionName/versions`]: { kind: "function", request: (f) => rest("POST", `${L}/${enc(f)}/versions`, {}) },
  [`GET ${L}/:FunctionName/versions`]: { kind: "function", request: (f) => rest("GET", `${L}/${enc(f)}/versions`) },
  [`GET /2019-09-25/functions/:FunctionName/event-invoke-config`]: { kind: "function", request: (f) => rest("GET", `/2019-09-25/functions/${enc(f)}/event-invoke-config`) },
  [`PUT /2019-09-25/functions/:FunctionName/event-invoke-config`]: { kind: "function", request: (f) => rest("PUT", `/2019-09-25/functions/${enc(f)}/event-invoke-config`, { MaximumRetryAttempts: 0 }) },
  [`POST /2019-09-25/functions/:FunctionName/event-invoke-config`]: { kind: "function", request: (f) => rest("POST", `/2019-09-25/functions/${enc(f)}/event-invoke-config`, { MaximumRetryAttempts: 0 }) },
  [`DELETE /2019-09-25/functions/:FunctionName/event-invoke-config`]: { kind: "function", request: (f) => rest("DELETE", `/2019-09-25/functions/${enc(f)}/event-invoke-config`) },
  [`GET /2019-09-25/functions/:FunctionName/event-invoke-config/list`]: { kind: "function", request: (f) => rest("GET", `/2019-09-25/functions/${enc(f)}/event-invoke-config/list`) },
  [`GET /2017-03-31/tags/:Resource{.+}`]: { kind: "functionArn", request: (f) => rest("GET", `/2017-03-31/tags/${enc(f)}`) },
  [`POST /2017-03-31/tags/:Resource{.+}`]: { kind: "functionArn", request: (f) => rest("POST", `/2017-03-31/tags/${enc(f)}`, { Tags: { owner: "b" } }) },
  [`DELETE /2017-03-31/tags/:Resource{.+}`]: { kind: "functionArn", request: (f) => rest("DELETE", `/2017-03-31/tags/${enc(f)}?tagKeys=team`) },
  [`GET /2021-07-20/functions/:FunctionName/runtime-management-config`]: { kind: "function", request: (f) => rest("GET", `/2021-07-20/functions/${enc(f)}/runtime-management-config`) },
  [`PUT /2021-07-20/functions/:FunctionName/runtime-management-config`]: { kind: "function", request: (f) => rest("PUT", `/2021-07-20/functions/${enc(f)}/runtime-management-config`, { UpdateRuntimeOn: "Auto" }) },
  [`GET /2024-08-31/functions/:FunctionName/recursion-config`]: { kind: "function", request: (f) => rest("GET", `/2024-08-31/functions/${enc(f)}/recursion-config`) },
  [`PUT /2024-08-31/functions/:FunctionName/recursion-config`]: { kind: "function", request: (f) => rest("PUT", `/2024-08-31/functions/${enc(f)}/recursion-config`, { RecursiveLoop: "Allow" }) },
  [`GET /2015-03-31/event-source-mappings`]: { kind: "function", request: (f) => rest("GET", `/2015-03-31/event-source-mappings?FunctionName=${enc(f)}`), emptyListWhenUnknown: true },
  [`POST /2015-03-31/event-source-mappings`]: { kind: "function", request: (f) => rest("POST", "/2015-03-31/event-source-mappings", { FunctionName: f, EventSourceArn: "arn:aws:sqs:us-east-1:000000000000:nowhere" }) },
  [`GET /2015-03-31/event-source-mappings/:UUID`]: { kind: "esm", request: (u) => rest("GET", `/2015-03-31/event-source-mappings/${u}`) },
  [`PUT /2015-03-31/event-source-mappings/:UUID`]: { kind: "esm", request: (u) => rest("PUT", `/2015-03-31/event-source-mappings/${u}`, { BatchSize: 3 }) },
  [`DELETE /2015-03-31/event-source-mappings/:UUID`]: { kind: "esm", request: (u) => rest("DELETE", `/2015-03-31/event-source-mappings/${u}`) },
  [`GET /2019-09-30/functions/:FunctionName/concurrency`]: { kind: "function", request: (f) => rest("GET", `/2019-09-30/functions/${enc(f)}/concurrency`) },
  [`PUT /2017-10-31/functions/:FunctionName/concurrency`]: { kind: "function", request: (f) => rest("PUT", `/2017-10-31/functions/${enc(f)}/concurrency`, { ReservedConcurrentExecutions: 1 }) },
  [`DELETE /2017-10-31/functions/:FunctionName/concurrency`]: { kind: "function", request: (f) => rest("DELETE", `/2017-10-31/functions/${enc(f)}/concurrency`) },
  [`GET /2019-09-30/functions/:FunctionName/provisioned-concurrency`]: { kind: "function", request: (f) => rest("GET", `/2019-09-30/functions/${enc(f)}/provisioned-concurrency?Qualifier=live`) },
  [`PUT /2019-09-30/functions/:FunctionName/provisioned-concurrency`]: { kind: "function", request: (f) => rest("PUT", `/2019-09-30/functions/${enc(f)}/provisioned-concurrency?Qualifier=live`, { ProvisionedConcurrentExecutions: 1 }) },
  [`DELETE /2019-09-30/functions/:FunctionName/provisioned-concurrency`]: { kind: "function", request: (f) => rest("DELETE", `/2019-09-30/functions/${enc(f)}/provisioned-concurrency?Qualifier=live`) },
  [`GET /cellfn/v1/functions/:FunctionName/failed-events`]: { kind: "function", request: (f) => rest("GET", `/cellfn/v1/functions/${enc(f)}/failed-events`), emptyListWhenUnknown: true },
  [`GET /2016-08-19/account-settings`]: { kind: "none", request: () => rest("GET", "/2016-08-19/account-settings") },
  [`POST /cellfn/v1/functions/:FunctionName/failed-events/:Id/redrive`]: { kind: "function", request: (f) => rest("POST", `/cellfn/v1/functions/${enc(f)}/failed-events/${FAKE_UUID}/redrive`, {}) },

  [`POST ${U}/:FunctionName/url`]: { kind: "function", request: (f) => rest("POST", `${U}/${enc(f)}/url`, { AuthType: "NONE" }) },
  [`GET ${U}/:FunctionName/url`]: { kind: "function", request: (f) => rest("GET", `${U}/${enc(f)}/url`) },
  [`PUT ${U}/:FunctionName/url`]: { kind: "function", request: (f) => rest("PUT", `${U}/${enc(f)}/url`, { AuthType: "NONE" }) },
  [`DELETE ${U}/:FunctionName/url`]: { kind: "function", request: (f) => rest("DELETE", `${U}/${enc(f)}/url`) },
  [`GET ${U}/:FunctionName/urls`]: { kind: "function", request: (f) => rest("GET", `${U}/${enc(f)}/urls`) },

  [`GET ${LY}`]: { kind: "none", request: () => rest("GET", LY) },
  [`GET ${LY}/:LayerName/versions`]: { kind: "layer", request: (l) => rest("GET", `${LY}/${enc(l)}/versions`), emptyListWhenUnknown: true },
  // Publishing by name (or by an ARN of B's account) creates B's own layer: only A's ARNs are A's.
  [`POST ${LY}/:LayerName/versions`]: { kind: "layerOfA", request: (l) => rest("POST", `${LY}/${enc(l)}/versions`, { Content: { ZipFile: layerZip() } }) },
  [`GET ${LY}/:LayerName/versions/:VersionNumber`]: { kind: "layerVersion", request: (l) => rest("GET", `${LY}/${layerVersionPath(l)}`) },
  [`DELETE ${LY}/:LayerName/versions/:VersionNumber`]: { kind: "layerVersion", request: (l) => rest("DELETE", `${LY}/${layerVersionPath(l)}`), answersAlike: "any" },
  [`GET ${LY}/:LayerName/versions/:VersionNumber/policy`]: { kind: "layerVersion", request: (l) => rest("GET", `${LY}/${layerVersionPath(l)}/policy`) },
  [`POST ${LY}/:LayerName/versions/:VersionNumber/policy`]: { kind: "layerVersion", request: (l) => rest("POST", `${LY}/${layerVersionPath(l)}/policy`, { StatementId: "b-grab", Action: "lambda:GetLayerVersion", Principal: "*" }) },
  [`DELETE ${LY}/:LayerName/versions/:VersionNumber/policy/:StatementId`]: { kind: "layerVersion", request: (l) => rest("DELETE", `${LY}/${layerVersionPath(l)}/policy/a-grant`) },

  [`GET ${D}/durable-executions/:arn`]: { kind: "execution", request: (x) => rest("GET", `${D}/durable-executions/${enc(x)}`) },
  [`GET ${D}/durable-executions/:arn/history`]: { kind: "execution", request: (x) => rest("GET", `${D}/durable-executions/${enc(x)}/history`) },
  [`GET ${D}/durable-executions/:arn/state`]: { kind: "execution", request: (x) => rest("GET", `${D}/durable-executions/${enc(x)}/state?CheckpointToken=${FAKE_TOKEN}`) },
  [`POST ${D}/durable-executions/:arn/checkpoint`]: { kind: "execution", request: (x) => rest("POST", `${D}/durable-executions/${enc(x)}/checkpoint`, { CheckpointToken: FAKE_TOKEN, Updates: [] }) },
  [`POST ${D}/durable-executions/:arn/stop`]: { kind: "execution", request: (x) => rest("POST", `${D}/durable-executions/${enc(x)}/stop`, { ErrorMessage: "b stopped it" }) },
  [`GET ${D}/functions/:FunctionName/durable-executions`]: { kind: "function", request: (f) => rest("GET", `${D}/functions/${enc(f)}/durable-executions`) },
  [`POST ${D}/durable-execution-callbacks/:id/succeed`]: { kind: "callbackId", request: (id) => ({ method: "POST", path: `${D}/durable-execution-callbacks/${enc(id)}/succeed`, raw: '"from b"' }) },
  [`POST ${D}/durable-execution-callbacks/:id/fail`]: { kind: "callbackId", request: (id) => rest("POST", `${D}/durable-execution-callbacks/${enc(id)}/fail`, { ErrorMessage: "b failed it" }) },
  [`POST ${D}/durable-execution-callbacks/:id/heartbeat`]: { kind: "callbackId", request: (id) => rest("POST", `${D}/durable-execution-callbacks/${enc(id)}/heartbeat`) },
};

const C = "/console/functions";
const page = (method: string, path: string, form?: Record<string, string>): Req => ({ method, path, console: form ? { form } : {} });
/** The console's pages, with B's console session. */
const CONSOLE_CASES: Record<string, Case> = {
  [`GET ${C}`]: { kind: "none", console: true, request: () => page("GET", C) },
  [`GET ${C}/:name`]: { kind: "function", console: true, request: (f) => page("GET", `${C}/${enc(f)}`) },
  [`GET ${C}/:name/logs`]: { kind: "function", console: true, request: (f) => page("GET", `${C}/${enc(f)}/logs`) },
  [`POST ${C}/:name/invoke`]: { kind: "function", console: true, request: (f) => page("POST", `${C}/${enc(f)}/invoke`, { payload: "{}" }) },
  [`POST ${C}/:name/failed-events/:id/redrive`]: { kind: "function", console: true, request: (f) => page("POST", `${C}/${enc(f)}/failed-events/${FAKE_UUID}/redrive`, {}) },
  [`GET /console/executions/:arn`]: { kind: "execution", console: true, request: (x) => page("GET", `/console/executions/${enc(x)}`) },
};
Object.assign(REST_CASES, CONSOLE_CASES);

/** CloudWatch metrics of A's function (recorded by A's invoke in setup), by the dimensions that name it. */
const T0 = Math.floor(Date.now() / 1000);
const metric = (f: string) => ({ Namespace: "AWS/Lambda", MetricName: "Invocations", Dimensions: [{ Name: "FunctionName", Value: f }] });
const METRIC_INPUT: Record<string, (f: string) => Record<string, unknown>> = {
  GetMetricStatistics: (f) => ({ ...metric(f), StartTime: T0 - 3600, EndTime: T0 + 3600, Period: 60, Statistics: ["Sum", "SampleCount"] }),
  GetMetricData: (f) => ({ MetricDataQueries: [{ Id: "m", MetricStat: { Metric: metric(f), Period: 60, Stat: "Sum" } }], StartTime: T0 - 3600, EndTime: T0 + 3600 }),
  ListMetrics: (f) => ({ Namespace: "AWS/Lambda", Dimensions: [{ Name: "FunctionName", Value: f }] }),
};
const cw = (op: string, body: unknown): Req => ({ method: "POST", path: "/", body, json: { service: "monitoring", target: `GraniteServiceVersion20100801.${op}`, contentType: "application/x-amz-json-1.0" } });
const cwCbor = (op: string, body: unknown): Req => ({ method: "POST", path: `${CBOR_SERVICE_PATH}/operation/${op}`, body, cbor: true });
const metricInput = (op: string, f: string) => (METRIC_INPUT[op] ?? (() => ({})))(f);
REST_CASES[`POST ${CBOR_SERVICE_PATH}/operation/:operation`] = { kind: "function", answersAlike: "success", request: (f) => cwCbor("GetMetricData", metricInput("GetMetricData", f)) };

/**
 * Operations that share a route with another (one `METHOD path`, told apart
 * by a query parameter, a Host or a body field), each with its own case.
 */
const SHARED_ROUTE_CASES: Record<string, Case> = {
  [`GET ${LY}?find=LayerVersion (GetLayerVersionByArn)`]: { kind: "layerVersionArn", request: (arn) => rest("GET", `${LY}?find=LayerVersion&Arn=${enc(arn)}`) },
  [`PUT ${L}/:FunctionName/configuration (Layers naming A's layer version)`]: { kind: "layerVersionArn", request: (arn) => rest("PUT", `${L}/b-holder/configuration`, { Layers: [arn] }) },
  [`POST /2015-03-31/event-source-mappings (EventSourceArn of A's stream)`]: {
    kind: "streamArn",
    request: (arn) => rest("POST", "/2015-03-31/event-source-mappings", { FunctionName: "b-holder", EventSourceArn: arn, StartingPosition: "TRIM_HORIZON", Enabled: false }),
  },
  [`POST /2015-03-31/event-source-mappings (EventSourceArn of A's queue)`]: { kind: "queueArn", request: (arn) => rest("POST", "/2015-03-31/event-source-mappings", { FunctionName: "b-holder", EventSourceArn: arn, Enabled: false }) },
  [`GET /2019-09-30/functions/:FunctionName/provisioned-concurrency?List=ALL (ListProvisionedConcurrencyConfigs)`]: {
    kind: "function",
    request: (f) => rest("GET", `/2019-09-30/functions/${enc(f)}/provisioned-concurrency?List=ALL`),
  },
  [`GET /2015-03-31/event-source-mappings?EventSourceArn= (A's stream)`]: { kind: "streamArn", request: (arn) => rest("GET", `/2015-03-31/event-source-mappings?EventSourceArn=${enc(arn)}`), emptyListWhenUnknown: true },
  [`GET /2015-03-31/event-source-mappings?EventSourceArn= (A's queue)`]: { kind: "queueArn", request: (arn) => rest("GET", `/2015-03-31/event-source-mappings?EventSourceArn=${enc(arn)}`), emptyListWhenUnknown: true },
  [`POST ${CBOR_SERVICE_PATH}/operation/GetMetricStatistics (CBOR)`]: { kind: "function", answersAlike: "success", request: (f) => cwCbor("GetMetricStatistics", metricInput("GetMetricStatistics", f)) },
  [`POST ${CBOR_SERVICE_PATH}/operation/ListMetrics (CBOR)`]: { kind: "function", answersAlike: "success", request: (f) => cwCbor("ListMetrics", metricInput("ListMetrics", f)) },
  [`POST ${CBOR_SERVICE_PATH}/operation/ListMetrics (CBOR, unfiltered)`]: { kind: "none", request: () => cwCbor("ListMetrics", {}) },
  ["GraniteServiceVersion20100801.ListMetrics (unfiltered)"]: { kind: "none", request: () => cw("ListMetrics", {}) },
  // The function URL front door: an AWS_IAM URL is A's resource (a NONE URL with its public statement is public by design).
  ["ANY <url-id>.lambda-url.<region>.<domain> (function URL front door, AWS_IAM)"]: { kind: "functionUrl", request: (id) => ({ method: "POST", path: "/path?x=1", origin: `http://${id}.lambda-url.us-east-1.localhost`, raw: "from b" }) },
};

const QUEUE = "victimq";
const STREAM = "victims";
const GROUP = "/victim/lg";
const SHARD = "shardId-000000000000";

const sqs = (op: string, body: unknown): Req => ({ method: "POST", path: "/", body, json: { service: "sqs", target: `AmazonSQS.${op}`, contentType: "application/x-amz-json-1.0" } });
const kinesis = (op: string, body: unknown): Req => ({ method: "POST", path: "/", body, json: { service: "kinesis", target: `Kinesis_20131202.${op}`, contentType: "application/x-amz-json-1.1" } });
const logs = (op: string, body: unknown): Req => ({ method: "POST", path: "/", body, json: { service: "logs", target: `Logs_20140328.${op}`, contentType: "application/x-amz-json-1.1" } });
const streamRef = (id: string) => (id.startsWith("arn:") ? { StreamARN: id } : { StreamName: id });
const groupRef = (id: string) => (id.startsWith("arn:") ? { logGroupIdentifier: id } : { logGroupName: id });
const FAKE_RECEIPT = "AQEBZmFrZS1yZWNlaXB0LWhhbmRsZQ==";

/** JSON-protocol operations, by `TargetPrefix.Operation`. */
const JSON_CASES: Record<string, Case> = {
  "AmazonSQS.CreateQueue": { kind: "none", request: () => sqs("CreateQueue", { QueueName: "b-own-queue" }) },
  "AmazonSQS.GetQueueUrl": { kind: "queueName", request: (q) => sqs("GetQueueUrl", { QueueName: q, QueueOwnerAWSAccountId: accountOfA() }) },
  "AmazonSQS.ListQueues": { kind: "none", request: () => sqs("ListQueues", {}) },
  "AmazonSQS.GetQueueAttributes": { kind: "queueUrl", request: (u) => sqs("GetQueueAttributes", { QueueUrl: u, AttributeNames: ["All"] }) },
  "AmazonSQS.SetQueueAttributes": { kind: "queueUrl", request: (u) => sqs("SetQueueAttributes", { QueueUrl: u, Attributes: { VisibilityTimeout: "5" } }) },
  "AmazonSQS.TagQueue": { kind: "queueUrl", request: (u) => sqs("TagQueue", { QueueUrl: u, Tags: { owner: "b" } }) },
  "AmazonSQS.UntagQueue": { kind: "queueUrl", request: (u) => sqs("UntagQueue", { QueueUrl: u, TagKeys: ["team"] }) },
  "AmazonSQS.ListQueueTags": { kind: "queueUrl", request: (u) => sqs("ListQueueTags", { QueueUrl: u }) },
  "AmazonSQS.PurgeQueue": { kind: "queueUrl", request: (u) => sqs("PurgeQueue", { QueueUrl: u }) },
  "AmazonSQS.DeleteQueue": { kind: "queueUrl", request: (u) => sqs("DeleteQueue", { QueueUrl: u }) },
  "AmazonSQS.ListDeadLetterSourceQueues": { kind: "queueUrl", request: (u) => sqs("ListDeadLetterSourceQueues", { QueueUrl: u }) },
  "AmazonSQS.SendMessage": { kind: "queueUrl", request: (u) => sqs("SendMessage", { QueueUrl: u, MessageBody: "from b" }) },
  "AmazonSQS.SendMessageBatch": { kind: "queueUrl", request: (u) => sqs("SendMessageBatch", { QueueUrl: u, Entries: [{ Id: "1", MessageBody: "from b" }] }) },
  "AmazonSQS.ReceiveMessage": { kind: "queueUrl", request: (u) => sqs("ReceiveMessage", { QueueUrl: u, VisibilityTimeout: 0 }) },
  "AmazonSQS.DeleteMessage": { kind: "queueUrl", request: (u) => sqs("DeleteMessage", { QueueUrl: u, ReceiptHandle: FAKE_RECEIPT }) },
  "AmazonSQS.DeleteMessageBatch": { kind: "queueUrl", request: (u) => sqs("DeleteMessageBatch", { QueueUrl: u, Entries: [{ Id: "1", ReceiptHandle: FAKE_RECEIPT }] }) },
  "AmazonSQS.ChangeMessageVisibility": { kind: "queueUrl", request: (u) => sqs("ChangeMessageVisibility", { QueueUrl: u, ReceiptHandle: FAKE_RECEIPT, VisibilityTimeout: 0 }) },
  "AmazonSQS.ChangeMessageVisibilityBatch": { kind: "queueUrl", request: (u) => sqs("ChangeMessageVisibilityBatch", { QueueUrl: u, Entries: [{ Id: "1", ReceiptHandle: FAKE_RECEIPT, VisibilityTimeout: 0 }] }) },
  "AmazonSQS.StartMessageMoveTask": { kind: "queueArn", request: (a) => sqs("StartMessageMoveTask", { SourceArn: a }) },
  "AmazonSQS.ListMessageMoveTasks": { kind: "queueArn", request: (a) => sqs("ListMessageMoveTasks", { SourceArn: a }) },
  "AmazonSQS.CancelMessageMoveTask": { kind: "none", request: () => sqs("CancelMessageMoveTask", { TaskHandle: "eyJ0YXNrSWQiOiJ4In0=" }) },
  "AmazonSQS.AddPermission": { kind: "queueUrl", request: (u) => sqs("AddPermission", { QueueUrl: u, Label: "b", AWSAccountIds: ["111111111111"], Actions: ["SendMessage"] }) },
  "AmazonSQS.RemovePermission": { kind: "queueUrl", request: (u) => sqs("RemovePermission", { QueueUrl: u, Label: "b" }) },

  "Kinesis_20131202.CreateStream": { kind: "none", request: () => kinesis("CreateStream", { StreamName: "b-own-stream", ShardCount: 1 }) },
  "Kinesis_20131202.DescribeStream": { kind: "stream", request: (s) => kinesis("DescribeStream", streamRef(s)) },
  "Kinesis_20131202.DescribeStreamSummary": { kind: "stream", request: (s) => kinesis("DescribeStreamSummary", streamRef(s)) },
  "Kinesis_20131202.ListStreams": { kind: "none", request: () => kinesis("ListStreams", {}) },
  "Kinesis_20131202.ListShards": { kind: "stream", request: (s) => kinesis("ListShards", streamRef(s)) },
  "Kinesis_20131202.DeleteStream": { kind: "stream", request: (s) => kinesis("DeleteStream", streamRef(s)) },
  "Kinesis_20131202.IncreaseStreamRetentionPeriod": { kind: "stream", request: (s) => kinesis("IncreaseStreamRetentionPeriod", { ...streamRef(s), RetentionPeriodHours: 48 }) },
  "Kinesis_20131202.DecreaseStreamRetentionPeriod": { kind: "stream", request: (s) => kinesis("DecreaseStreamRetentionPeriod", { ...streamRef(s), RetentionPeriodHours: 24 }) },
  "Kinesis_20131202.PutRecord": { kind: "stream", request: (s) => kinesis("PutRecord", { ...streamRef(s), Data: "ZnJvbSBi", PartitionKey: "k" }) },
  "Kinesis_20131202.PutRecords": { kind: "stream", request: (s) => kinesis("PutRecords", { ...streamRef(s), Records: [{ Data: "ZnJvbSBi", PartitionKey: "k" }] }) },
  "Kinesis_20131202.GetShardIterator": { kind: "stream", request: (s) => kinesis("GetShardIterator", { ...streamRef(s), ShardId: SHARD, ShardIteratorType: "TRIM_HORIZON" }) },
  "Kinesis_20131202.GetRecords": { kind: "shardIterator", request: (it) => kinesis("GetRecords", { ShardIterator: it }) },
  "Kinesis_20131202.AddTagsToStream": { kind: "stream", request: (s) => kinesis("AddTagsToStream", { ...streamRef(s), Tags: { owner: "b" } }) },
  "Kinesis_20131202.RemoveTagsFromStream": { kind: "stream", request: (s) => kinesis("RemoveTagsFromStream", { ...streamRef(s), TagKeys: ["team"] }) },
  "Kinesis_20131202.ListTagsForStream": { kind: "stream", request: (s) => kinesis("ListTagsForStream", streamRef(s)) },

  "Logs_20140328.CreateLogGroup": { kind: "none", request: () => logs("CreateLogGroup", { logGroupName: "/b-own/lg" }) },
  "Logs_20140328.DeleteLogGroup": { kind: "logGroup", request: (g) => logs("DeleteLogGroup", { logGroupName: g }) },
  "Logs_20140328.DescribeLogGroups": { kind: "none", request: () => logs("DescribeLogGroups", {}) },
  "Logs_20140328.PutRetentionPolicy": { kind: "logGroup", request: (g) => logs("PutRetentionPolicy", { logGroupName: g, retentionInDays: 1 }) },
  "Logs_20140328.DeleteRetentionPolicy": { kind: "logGroup", request: (g) => logs("DeleteRetentionPolicy", { logGroupName: g }) },
  "Logs_20140328.CreateLogStream": { kind: "logGroup", request: (g) => logs("CreateLogStream", { logGroupName: g, logStreamName: "b-stream" }) },
  "Logs_20140328.DescribeLogStreams": { kind: "logGroup", request: (g) => logs("DescribeLogStreams", groupRef(g)) },
  "Logs_20140328.PutLogEvents": { kind: "logGroup", request: (g) => logs("PutLogEvents", { logGroupName: g, logStreamName: "s1", logEvents: [{ timestamp: Date.now(), message: "from b" }] }) },
  "Logs_20140328.GetLogEvents": { kind: "logGroup", request: (g) => logs("GetLogEvents", { ...groupRef(g), logStreamName: "s1", startFromHead: true }) },
  "Logs_20140328.FilterLogEvents": { kind: "logGroup", request: (g) => logs("FilterLogEvents", groupRef(g)) },
  "Logs_20140328.StartQuery": { kind: "logGroup", request: (g) => logs("StartQuery", { logGroupIdentifiers: [g], startTime: 0, endTime: Math.floor(Date.now() / 1000) + 60, queryString: "fields @message" }) },
  "GraniteServiceVersion20100801.GetMetricStatistics": { kind: "function", answersAlike: "success", request: (f) => cw("GetMetricStatistics", metricInput("GetMetricStatistics", f)) },
  "GraniteServiceVersion20100801.GetMetricData": { kind: "function", answersAlike: "success", request: (f) => cw("GetMetricData", metricInput("GetMetricData", f)) },
  "GraniteServiceVersion20100801.ListMetrics": { kind: "function", answersAlike: "success", request: (f) => cw("ListMetrics", metricInput("ListMetrics", f)) },
  // Refused before its event stream starts: B never gets a 200 stream for A's group.
  "Logs_20140328.StartLiveTail": { kind: "logGroup", request: (g) => logs("StartLiveTail", { logGroupIdentifiers: [g] }) },
  "Logs_20140328.GetQueryResults": { kind: "queryId", request: (q) => logs("GetQueryResults", { queryId: q }) },
  "Logs_20140328.StopQuery": { kind: "queryId", request: (q) => logs("StopQuery", { queryId: q }) },
};

let a: TenantKey;
let b: TenantKey;
let bSession: Principal;
/** Identifiers of A's resources that only exist after setup. */
const found = { esm: "", kinesisEsm: "", queryId: "", shardIterator: "", streamArn: "", urlId: "", executionArn: "", callbackId: "" };
const accountOfA = () => a.accountId;

async function send(who: Principal, req: Req): Promise<Response> {
  if (req.console) return consoleSend(who, req);
  if (req.cbor) return cborSend(who, req);
  const client = new AwsClient({ ...who, service: req.json?.service ?? "lambda", region: "us-east-1" });
  const headers: Record<string, string> = req.json ? { "x-amz-target": req.json.target, "content-type": req.json.contentType } : req.body === undefined ? {} : { "content-type": "application/json" };
  const body = req.raw ?? (req.body === undefined ? undefined : JSON.stringify(req.body));
  const request = await client.sign(`${req.origin ?? BASE}${req.path}`, { method: req.method, headers, body });
  return exports.default.fetch(request);
}

/** A console session per access key id (signed in once). */
const consoleSessions = new Map<string, { cookie: string; csrf: string }>();

async function consoleSession(who: Principal): Promise<{ cookie: string; csrf: string }> {
  const known = consoleSessions.get(who.accessKeyId);
  if (known) return known;
  const fields = new URLSearchParams({ accessKeyId: who.accessKeyId, secret: who.secretAccessKey, adminToken: "" });
  const res = await exports.default.fetch(`${BASE}/console/login`, { method: "POST", body: fields.toString(), headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE }, redirect: "manual" });
  if (res.status !== 303) throw new Error(`console sign-in: ${res.status}`);
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const page = await (await exports.default.fetch(`${BASE}/console/functions`, { headers: { cookie }, redirect: "manual" })).text();
  const session = { cookie, csrf: /name="csrf" value="([0-9a-f]+)"/.exec(page)?.[1] ?? "" };
  consoleSessions.set(who.accessKeyId, session);
  return session;
}

async function consoleSend(who: Principal, req: Req): Promise<Response> {
  const { cookie, csrf } = await consoleSession(who);
  const form = req.console?.form;
  const headers: Record<string, string> = form ? { cookie, "content-type": "application/x-www-form-urlencoded", origin: BASE } : { cookie };
  const body = form ? new URLSearchParams({ csrf, ...form }).toString() : undefined;
  return exports.default.fetch(`${BASE}${req.path}`, { method: req.method, headers, body, redirect: "manual" });
}

/** A CloudWatch call as SDK v3 sends it; the CBOR answer comes back as JSON text to compare. */
async function cborSend(who: Principal, req: Req): Promise<Response> {
  const client = new AwsClient({ ...who, service: "monitoring", region: "us-east-1" });
  const headers = { "content-type": "application/cbor", accept: "application/cbor", "smithy-protocol": "rpc-v2-cbor" };
  const res = await exports.default.fetch(await client.sign(`${BASE}${req.path}`, { method: "POST", headers, body: encodeCbor(req.body ?? {}) }));
  const decoded = decodeCbor(new Uint8Array(await res.arrayBuffer()));
  const asJson = new Headers(res.headers);
  asJson.set("content-type", "application/json");
  return new Response(JSON.stringify(decoded), { status: res.status, headers: asJson });
}

/** Until A's invoke is counted (the recorder writes a moment after the invoke answered). */
async function waitForMetrics(): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const stats = await ok(await send(keyPrincipal(a), cw("GetMetricStatistics", metricInput("GetMetricStatistics", VICTIM))), "A's GetMetricStatistics");
    if ((stats.Datapoints as unknown[]).length > 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("A's invoke was never counted");
}

/** A signed Lambda call with extra headers and a raw body. */
async function sendRaw(who: Principal, method: string, path: string, body: string, headers: Record<string, string>): Promise<Response> {
  const client = new AwsClient({ ...who, service: "lambda", region: "us-east-1" });
  return exports.default.fetch(await client.sign(`${BASE}${path}`, { method, headers, body }));
}

/** The callback id A's execution started with, from its history (the function checkpoints it on its first run). */
async function callbackIdOfA(arn: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const history = await ok(await send(keyPrincipal(a), rest("GET", `${D}/durable-executions/${enc(arn)}/history`)), "GetDurableExecutionHistory");
    const events = (history.Events ?? []) as Array<{ CallbackStartedDetails?: { CallbackId?: string } }>;
    const id = events.find((e) => e.CallbackStartedDetails?.CallbackId)?.CallbackStartedDetails?.CallbackId;
    if (id) return id;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("A's durable execution started no callback");
}

/** An answer with the resource's identity masked: status, error type, message (and body, for a success). */
async function answer(res: Response, masks: readonly string[]): Promise<{ status: number; type: string | null; message: string; body?: string }> {
  let text = await res.text();
  for (const mask of masks) text = text.replaceAll(mask, "<N>").replaceAll(enc(mask), "<N>");
  text = text.replaceAll(/(?:victim|absent)[a-z]*/g, "<N>");
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON: the raw text is compared below.
  }
  const type = res.headers.get("x-amzn-ErrorType") ?? (typeof json.__type === "string" ? json.__type : null);
  const message = String(json.message ?? json.Message ?? "");
  return res.status < 300 ? { status: res.status, type, message, body: text } : { status: res.status, type, message };
}

const fnArn = (account: string, name: string) => `arn:aws:lambda:us-east-1:${account}:function:${name}`;
const layerArnOf = (account: string, name: string) => `arn:aws:lambda:us-east-1:${account}:layer:${name}`;
/** `name#version` (the layerVersion kind's identifier) as the route's `{LayerName}/versions/{VersionNumber}`. */
function layerVersionPath(id: string): string {
  const [name = "", version = ""] = id.split("#");
  return `${enc(name)}/versions/${version}`;
}
const layerZip = () => createFunctionBody("layer", { "nodejs/node_modules/util-a/index.js": "module.exports = 1;" }).Code.ZipFile;

function callbackRefOf(id: string): CallbackRef {
  const ref = parseCallbackId(id);
  if (!ref) throw new Error(`not a callback id: ${id}`);
  return ref;
}

/** (victim, absent) pairs: the same form naming A's resource and naming nothing. */
function forms(kind: Kind): Array<[string, string]> {
  const A = a.accountId;
  const B = b.accountId;
  switch (kind) {
    case "function":
      return [
        [VICTIM, ABSENT],
        [`${VICTIM}:live`, `${ABSENT}:live`],
        [`${VICTIM}:1`, `${ABSENT}:1`],
        [`${A}:function:${VICTIM}`, `${A}:function:${ABSENT}`],
        ...forms("functionArn"),
      ];
    case "functionUrl":
      return [[found.urlId, found.urlId.replace(/^./, (c) => (c === "a" ? "b" : "a"))]];
    case "functionArn":
      return [
        [fnArn(A, VICTIM), fnArn(A, ABSENT)],
        [`${fnArn(A, VICTIM)}:1`, `${fnArn(A, ABSENT)}:1`],
        [`${fnArn(A, VICTIM)}:live`, `${fnArn(A, ABSENT)}:live`],
        [fnArn(B, VICTIM), fnArn(B, ABSENT)],
      ];
    case "queueUrl":
      return [
        [`${BASE}/${A}/${QUEUE}`, `${BASE}/${A}/absentq`],
        [`https://sqs.us-east-1.amazonaws.com/${A}/${QUEUE}`, `https://sqs.us-east-1.amazonaws.com/${A}/absentq`],
        [`${BASE}/${B}/${QUEUE}`, `${BASE}/${B}/absentq`],
      ];
    case "queueArn":
      return [
        [`arn:aws:sqs:us-east-1:${A}:${QUEUE}`, `arn:aws:sqs:us-east-1:${A}:absentq`],
        [`arn:aws:sqs:us-east-1:${B}:${QUEUE}`, `arn:aws:sqs:us-east-1:${B}:absentq`],
      ];
    case "queueName":
      return [[QUEUE, "absentq"]];
    case "stream":
      return [
        [STREAM, "absents"],
        [found.streamArn, found.streamArn.replace(STREAM, "absents")],
        [found.streamArn.replace(A, B), found.streamArn.replace(A, B).replace(STREAM, "absents")],
      ];
    case "streamArn":
      return [
        [found.streamArn, found.streamArn.replace(STREAM, "absents")],
        [found.streamArn.replace(A, B), found.streamArn.replace(A, B).replace(STREAM, "absents")],
      ];
    case "layer":
      return [[LAYER, "absentl"], ...forms("layerOfA"), [layerArnOf(B, LAYER), layerArnOf(B, "absentl")]];
    case "layerOfA":
      return [
        [layerArnOf(A, LAYER), layerArnOf(A, "absentl")],
        [layerArnOf(A, SHARED_LAYER), layerArnOf(A, "absentl")],
      ];
    case "layerVersion":
      // Version 1 of the shared layer is granted to B (the exception, tested below); its version 2 is not.
      return [
        [`${LAYER}#1`, "absentl#1"],
        [`${layerArnOf(A, LAYER)}#1`, `${layerArnOf(A, "absentl")}#1`],
        [`${layerArnOf(A, LAYER)}#2`, `${layerArnOf(A, "absentl")}#2`],
        [`${layerArnOf(A, SHARED_LAYER)}#2`, `${layerArnOf(A, "absentl")}#2`],
        [`${layerArnOf(B, LAYER)}#1`, `${layerArnOf(B, "absentl")}#1`],
      ];
    case "layerVersionArn":
      return [
        [`${layerArnOf(A, LAYER)}:1`, `${layerArnOf(A, "absentl")}:1`],
        [`${layerArnOf(A, SHARED_LAYER)}:2`, `${layerArnOf(A, "absentl")}:2`],
        [`${layerArnOf(B, LAYER)}:1`, `${layerArnOf(B, "absentl")}:1`],
      ];
    case "execution":
      return [
        [found.executionArn, found.executionArn.replace(/\/[^/]+$/, `/${FAKE_UUID}`)],
        [found.executionArn, found.executionArn.replace(DURABLE_FN, "absentdr")],
        [found.executionArn.replace(A, B), found.executionArn.replace(A, B).replace(DURABLE_FN, "absentdr")],
      ];
    case "callbackId":
      return [[found.callbackId, callbackIdOf({ ...callbackRefOf(found.callbackId), nonce: "0".repeat(32) })]];
    case "shardIterator":
      return [[found.shardIterator, found.shardIterator.replace(/.$/, (c) => (c === "A" ? "B" : "A"))]];
    case "logGroup":
      return [
        [GROUP, "/absent/lg"],
        [`arn:aws:logs:us-east-1:${A}:log-group:${GROUP}`, `arn:aws:logs:us-east-1:${A}:log-group:/absent/lg`],
      ];
    case "esm":
      return [
        [found.esm, FAKE_UUID],
        [found.kinesisEsm, FAKE_UUID],
      ];
    case "queryId":
      return [[found.queryId, crypto.randomUUID()]];
    case "none":
      return [];
  }
}

function keyPrincipal(key: TenantKey): Principal {
  return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
}

async function ok(res: Response, what: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${what}: ${res.status} ${text}`);
  return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
}

/** A's own view of everything it owns; compared before and after B's requests. */
async function snapshotOfA(): Promise<unknown> {
  const A = keyPrincipal(a);
  const reads: Array<[string, Req]> = [
    ["function", rest("GET", `${L}/${VICTIM}`)],
    ["versions", rest("GET", `${L}/${VICTIM}/versions`)],
    ["aliases", rest("GET", `${L}/${VICTIM}/aliases`)],
    ["policy", rest("GET", `${L}/${VICTIM}/policy`)],
    ["invoke-config", rest("GET", `/2019-09-25/functions/${VICTIM}/event-invoke-config`)],
    ["tags", rest("GET", `/2017-03-31/tags/${enc(fnArn(a.accountId, VICTIM))}`)],
    ["concurrency", rest("GET", `/2019-09-30/functions/${VICTIM}/concurrency`)],
    ["recursion", rest("GET", `/2024-08-31/functions/${VICTIM}/recursion-config`)],
    ["provisioned", rest("GET", `/2019-09-30/functions/${VICTIM}/provisioned-concurrency?Qualifier=live`)],
    ["esm", rest("GET", `/2015-03-31/event-source-mappings/${found.esm}`)],
    ["kinesis-esm", rest("GET", `/2015-03-31/event-source-mappings/${found.kinesisEsm}`)],
    ["url", rest("GET", `${U}/${VICTIM}/url`)],
    ["urls", rest("GET", `${U}/${VICTIM}/urls`)],
    ["layers", rest("GET", LY)],
    ["layer-versions", rest("GET", `${LY}/${LAYER}/versions`)],
    ["layer-version", rest("GET", `${LY}/${LAYER}/versions/1`)],
    ["layer-policy", rest("GET", `${LY}/${LAYER}/versions/1/policy`)],
    ["shared-layer-policy", rest("GET", `${LY}/${SHARED_LAYER}/versions/1/policy`)],
    ["execution", rest("GET", `${D}/durable-executions/${enc(found.executionArn)}`)],
    ["execution-history", rest("GET", `${D}/durable-executions/${enc(found.executionArn)}/history`)],
    ["executions", rest("GET", `${D}/functions/${DURABLE_FN}/durable-executions`)],
    ["functions", rest("GET", L)],
    ["queue", sqs("GetQueueAttributes", { QueueUrl: `${BASE}/${a.accountId}/${QUEUE}`, AttributeNames: ["All"] })],
    ["queue-tags", sqs("ListQueueTags", { QueueUrl: `${BASE}/${a.accountId}/${QUEUE}` })],
    ["queues", sqs("ListQueues", {})],
    ["stream", kinesis("DescribeStreamSummary", { StreamName: STREAM })],
    ["stream-tags", kinesis("ListTagsForStream", { StreamName: STREAM })],
    ["records", kinesis("GetRecords", { ShardIterator: found.shardIterator })],
    ["groups", logs("DescribeLogGroups", {})],
    ["log-streams", logs("DescribeLogStreams", { logGroupName: GROUP })],
    ["events", logs("GetLogEvents", { logGroupName: GROUP, logStreamName: "s1", startFromHead: true })],
  ];
  const out: Record<string, unknown> = {};
  for (const [name, req] of reads) {
    const body = await ok(await send(A, req), `A's ${name}`);
    if (name === "function" && typeof body.Code === "object" && body.Code !== null) delete (body.Code as Record<string, unknown>).Location; // presigned, changes every second
    if (name === "records") delete body.MillisBehindLatest;
    // Allocation proceeds on its own; what A asked for is what B must not change.
    if (name === "provisioned") for (const key of ["AllocatedProvisionedConcurrentExecutions", "AvailableProvisionedConcurrentExecutions", "Status", "StatusReason"]) delete body[key];
    if (name === "layer-version" && typeof body.Content === "object" && body.Content !== null) delete (body.Content as Record<string, unknown>).Location;
    delete body.NextShardIterator;
    out[name] = body;
  }
  return out;
}

beforeAll(async () => {
  [a, b] = await Promise.all([newTenant("full", "tbc-a"), newTenant("full", "tbc-b")]);
  const A = keyPrincipal(a);
  await createActive(a, createFunctionBody(VICTIM, CODE, { Tags: { team: "a" } }));
  await createActive(a, createFunctionBody(GRANTED, CODE));
  await createActive(b, createFunctionBody("b-holder", CODE));
  await ok(await send(A, rest("POST", `${L}/${VICTIM}/versions`, {})), "PublishVersion");
  await ok(await send(A, rest("POST", `${L}/${VICTIM}/aliases`, { Name: "live", FunctionVersion: "1" })), "CreateAlias");
  await ok(await send(A, rest("POST", `${L}/${VICTIM}/policy`, { StatementId: "s3-grant", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com" })), "AddPermission");
  await ok(await send(A, rest("POST", `${L}/${GRANTED}/policy`, { StatementId: "b-may-invoke", Action: "lambda:InvokeFunction", Principal: b.accountId })), "AddPermission for B");
  await ok(await send(A, rest("PUT", `/2019-09-25/functions/${VICTIM}/event-invoke-config`, { MaximumRetryAttempts: 1 })), "PutFunctionEventInvokeConfig");
  await ok(await send(A, rest("PUT", `/2017-10-31/functions/${VICTIM}/concurrency`, { ReservedConcurrentExecutions: 2 })), "PutFunctionConcurrency");
  await ok(await send(A, rest("PUT", `/2019-09-30/functions/${VICTIM}/provisioned-concurrency?Qualifier=live`, { ProvisionedConcurrentExecutions: 1 })), "PutProvisionedConcurrencyConfig");

  await ok(await send(A, sqs("CreateQueue", { QueueName: QUEUE, tags: { team: "a" } })), "CreateQueue");
  await ok(await send(A, sqs("SendMessage", { QueueUrl: `${BASE}/${a.accountId}/${QUEUE}`, MessageBody: "a's secret" })), "SendMessage");
  const esm = await ok(await send(A, rest("POST", "/2015-03-31/event-source-mappings", { FunctionName: VICTIM, EventSourceArn: `arn:aws:sqs:us-east-1:${a.accountId}:${QUEUE}`, Enabled: false })), "CreateEventSourceMapping");
  found.esm = String(esm.UUID);

  await ok(await send(A, kinesis("CreateStream", { StreamName: STREAM, ShardCount: 1 })), "CreateStream");
  await ok(await send(A, kinesis("AddTagsToStream", { StreamName: STREAM, Tags: { team: "a" } })), "AddTagsToStream");
  await ok(await send(A, kinesis("PutRecord", { StreamName: STREAM, Data: "YSdzIHNlY3JldA==", PartitionKey: "k" })), "PutRecord");
  const summary = await ok(await send(A, kinesis("DescribeStreamSummary", { StreamName: STREAM })), "DescribeStreamSummary");
  found.streamArn = String((summary.StreamDescriptionSummary as Record<string, unknown>).StreamARN);
  const iterator = await ok(await send(A, kinesis("GetShardIterator", { StreamName: STREAM, ShardId: SHARD, ShardIteratorType: "TRIM_HORIZON" })), "GetShardIterator");
  found.shardIterator = String(iterator.ShardIterator);

  await ok(await send(A, logs("CreateLogGroup", { logGroupName: GROUP })), "CreateLogGroup");
  await ok(await send(A, logs("CreateLogStream", { logGroupName: GROUP, logStreamName: "s1" })), "CreateLogStream");
  await ok(await send(A, logs("PutLogEvents", { logGroupName: GROUP, logStreamName: "s1", logEvents: [{ timestamp: Date.now(), message: "a's secret" }] })), "PutLogEvents");
  const query = await ok(await send(A, logs("StartQuery", { logGroupName: GROUP, startTime: 0, endTime: Math.floor(Date.now() / 1000) + 60, queryString: "fields @message" })), "StartQuery");
  found.queryId = String(query.queryId);

  // A's invoke of its function: metrics (and logs) that B must not see.
  await ok(await send(A, rest("POST", `${L}/${VICTIM}/invocations`, { from: "a" })), "Invoke");
  await waitForMetrics();

  // A's function URLs: AWS_IAM on the function, NONE (public by design) on the alias.
  const iamUrl = await ok(await send(A, rest("POST", `${U}/${VICTIM}/url`, { AuthType: "AWS_IAM" })), "CreateFunctionUrlConfig");
  found.urlId = new URL(String(iamUrl.FunctionUrl)).hostname.split(".")[0] ?? "";
  await ok(await send(A, rest("POST", `${U}/${VICTIM}/url?Qualifier=live`, { AuthType: "NONE" })), "CreateFunctionUrlConfig (alias)");
  // A's mapping on a Kinesis source (disabled: nothing polls).
  const kinesisEsm = await ok(
    await send(A, rest("POST", "/2015-03-31/event-source-mappings", { FunctionName: VICTIM, EventSourceArn: found.streamArn, StartingPosition: "TRIM_HORIZON", Enabled: false })),
    "CreateEventSourceMapping (Kinesis)",
  );
  found.kinesisEsm = String(kinesisEsm.UUID);

  // A's layers: one with a policy for a third account, one whose version 1 (only) is shared with B.
  await ok(await send(A, rest("POST", `${LY}/${LAYER}/versions`, { Content: { ZipFile: layerZip() } })), "PublishLayerVersion");
  await ok(await send(A, rest("POST", `${LY}/${LAYER}/versions/1/policy`, { StatementId: "a-grant", Action: "lambda:GetLayerVersion", Principal: "111111111111" })), "AddLayerVersionPermission");
  await ok(await send(A, rest("POST", `${LY}/${SHARED_LAYER}/versions`, { Content: { ZipFile: layerZip() } })), "PublishLayerVersion (shared)");
  await ok(await send(A, rest("POST", `${LY}/${SHARED_LAYER}/versions`, { Content: { ZipFile: layerZip() } })), "PublishLayerVersion (shared, 2)");
  await ok(await send(A, rest("POST", `${LY}/${SHARED_LAYER}/versions/1/policy`, { StatementId: "b-may-use", Action: "lambda:GetLayerVersion", Principal: b.accountId })), "AddLayerVersionPermission for B");

  // A's durable execution, RUNNING and waiting on a callback.
  await createActive(a, createFunctionBody(DURABLE_FN, { "index.js": AWAITS_CALLBACK }, { DurableConfig: { ExecutionTimeout: 900, RetentionPeriodInDays: 1 }, Publish: true }));
  const started = await sendRaw(A, "POST", `${L}/${DURABLE_FN}/invocations?Qualifier=1`, "{}", { "X-Amz-Invocation-Type": "Event", "X-Amz-Durable-Execution-Name": "run-1" });
  if (started.status !== 202) throw new Error(`durable invoke: ${started.status} ${await started.text()}`);
  found.executionArn = started.headers.get("X-Amz-Durable-Execution-Arn") ?? "";
  found.callbackId = await callbackIdOfA(found.executionArn);

  const minted = await mintSessionCredentials(env.KEY_DERIVATION_SECRET, { tenantId: b.tenantId, functionName: "b-holder", environmentId: "tbc" }, Date.now());
  bSession = { accessKeyId: minted.accessKeyId, secretAccessKey: minted.secretAccessKey, sessionToken: minted.sessionToken };
}, 90_000);

/** Every `METHOD path` the app serves (middleware, listed as ALL, excluded). */
function appRoutes(): string[] {
  return [...new Set(buildApp().routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`))].sort();
}

function jsonOperations(): string[] {
  return JSON_SERVICES.flatMap((s) => Object.keys(s.operations).map((op) => `${s.targetPrefix}.${op}`)).sort();
}

/** The AWS JSON services' `POST /`: each of its operations has its own case. */
const JSON_DISPATCH = "POST /";

function exemption(route: string): string | undefined {
  if (route === JSON_DISPATCH) return "dispatches by X-Amz-Target; every operation has its own JSON_CASES entry";
  if (route.startsWith(`GET ${DOWNLOAD_MOUNT}`)) return "presigned code download: the HMAC-signed URL is the credential, issued only to the owner by GetFunction";
  return EXEMPT[route];
}

describe("every route and operation has a tenancy case", () => {
  it("the app's routes are all covered or exempt with a reason", () => {
    const missing = appRoutes().filter((r) => REST_CASES[r] === undefined && exemption(r) === undefined);
    expect(missing, `routes without a tenancy case in ${import.meta.url}: add a REST_CASES entry (or an EXEMPT reason)`).toEqual([]);
    const stale = Object.keys(REST_CASES).filter((r) => !appRoutes().includes(r));
    expect(stale, "REST_CASES entries for routes the app no longer serves").toEqual([]);
  });

  it("the registry's JSON operations are all covered", () => {
    const missing = jsonOperations().filter((op) => JSON_CASES[op] === undefined);
    expect(missing, "JSON operations without a tenancy case: add a JSON_CASES entry").toEqual([]);
  });

  it("exempt operator routes refuse tenant B's key", async () => {
    for (const route of Object.keys(EXEMPT).filter((r) => r.includes(" /admin/"))) {
      const [method = "GET", path = "/"] = route.split(" ");
      const res = await send(keyPrincipal(b), rest(method, path.replaceAll(/:[A-Za-z]+/g, a.tenantId), method === "GET" || method === "DELETE" ? undefined : {}));
      expect(res.status, route).toBe(401);
    }
  });
});

describe("tenant B sees A's resources as nonexistent, on every route", () => {
  let before: unknown;
  beforeAll(async () => {
    before = await snapshotOfA();
  });

  const all: Array<[string, Case]> = [...Object.entries(REST_CASES), ...Object.entries(SHARED_ROUTE_CASES), ...Object.entries(JSON_CASES)];
  for (const [route, c] of all) {
    it(route, async () => {
      // The console signs in with a key id and secret only (in-function credentials cannot sign in, tested below).
      const callers: Array<[string, Principal]> = c.console ? [["B's console session", keyPrincipal(b)]] : [["B's key", keyPrincipal(b)], ["B's session credentials", bSession]];
      const pairs = forms(c.kind);
      for (const [caller, who] of callers) {
        if (pairs.length === 0) {
          // Lists and creates: nothing of A's may appear in B's answer.
          const text = await (await send(who, c.request(""))).text();
          expect(text, `${route} by ${caller}`).not.toContain(a.accountId);
          expect(text, `${route} by ${caller}`).not.toMatch(/victim/);
          continue;
        }
        // The forms of one route are independent requests: sent together to keep the suite fast.
        await Promise.all(
          pairs.map(async ([victim, absent]) => {
            const masks = [victim, absent];
            const seen = await answer(await send(who, c.request(victim)), masks);
            const none = await answer(await send(who, c.request(absent)), masks);
            expect(seen, `${route} by ${caller} naming ${victim}`).toEqual(none);
            if (c.emptyListWhenUnknown) expect(seen.body ?? "", `${route} by ${caller}`).not.toMatch(/<N>|\[\{/);
            else if (c.answersAlike === "success") expect(seen.status, `${route} by ${caller}: ${JSON.stringify(seen)}`).toBeLessThan(300);
            else if (c.answersAlike !== "any") expect(seen.status, `${route} by ${caller} naming ${victim}: ${JSON.stringify(seen)}`).toBeGreaterThanOrEqual(400);
          }),
        );
      }
    });
  }

  it("A's resources are unchanged by all of B's requests", async () => {
    expect(await snapshotOfA()).toEqual(before);
  });
});

describe("access A granted through a resource policy", () => {
  it("B invokes A's function by full ARN when A's policy names B's account, and only that function", async () => {
    const granted = await send(keyPrincipal(b), rest("POST", `${L}/${enc(fnArn(a.accountId, GRANTED))}/invocations`, { hello: "b" }));
    expect(granted.status).toBe(200);
    expect(await granted.json()).toEqual({ ok: true, event: { hello: "b" } });
    const notGranted = await send(keyPrincipal(b), rest("POST", `${L}/${enc(fnArn(a.accountId, VICTIM))}/invocations`, {}));
    expect(notGranted.status).toBe(403);
    // The grant is for invoking, not for reading the function.
    const read = await answer(await send(keyPrincipal(b), rest("GET", `${L}/${enc(fnArn(a.accountId, GRANTED))}`)), [GRANTED, ABSENT]);
    const absent = await answer(await send(keyPrincipal(b), rest("GET", `${L}/${enc(fnArn(a.accountId, ABSENT))}`)), [GRANTED, ABSENT]);
    expect(read).toEqual(absent);
  });
});

describe("access A granted through a layer version policy", () => {
  it("B reads version 1 of A's shared layer (by ARN and by path), and only that version", async () => {
    const arn = `${layerArnOf(a.accountId, SHARED_LAYER)}:1`;
    const byArn = await ok(await send(keyPrincipal(b), rest("GET", `${LY}?find=LayerVersion&Arn=${enc(arn)}`)), "GetLayerVersionByArn of the shared version");
    expect(byArn.LayerVersionArn).toBe(arn);
    const byPath = await ok(await send(bSession, rest("GET", `${LY}/${enc(layerArnOf(a.accountId, SHARED_LAYER))}/versions/1`)), "GetLayerVersion of the shared version");
    expect(byPath.LayerVersionArn).toBe(arn);
    // The grant is for reading that version: not its policy, not its other versions, not a listing.
    for (const path of [`${LY}/${enc(layerArnOf(a.accountId, SHARED_LAYER))}/versions/1/policy`, `${LY}/${enc(layerArnOf(a.accountId, SHARED_LAYER))}/versions/2`, `${LY}/${enc(layerArnOf(a.accountId, SHARED_LAYER))}/versions`]) {
      expect((await send(keyPrincipal(b), rest("GET", path))).status, path).toBeGreaterThanOrEqual(400);
    }
    expect(JSON.stringify(await ok(await send(keyPrincipal(b), rest("GET", LY)), "B's ListLayers"))).not.toContain(SHARED_LAYER);
  });
});

describe("A's AWS_IAM function URL, to callers that are not A", () => {
  it("answers an unsigned call and a call signed by an unknown key as it answers a URL that does not exist", async () => {
    const absentId = found.urlId.replace(/^./, (c) => (c === "a" ? "b" : "a"));
    const urlOf = (id: string) => `http://${id}.lambda-url.us-east-1.localhost/path`;
    const masks = [found.urlId, absentId];
    const unsigned = async (id: string) => answer(await exports.default.fetch(new Request(urlOf(id), { method: "POST", body: "x" })), masks);
    expect(await unsigned(found.urlId)).toEqual(await unsigned(absentId));
    const stranger = new AwsClient({ accessKeyId: "AKIAXXXXXXXXXXXXXXXX", secretAccessKey: "not-a-key", service: "lambda", region: "us-east-1" });
    const bogus = async (id: string) => answer(await exports.default.fetch(await stranger.sign(urlOf(id), { method: "POST", body: "x" })), masks);
    expect(await bogus(found.urlId)).toEqual(await bogus(absentId));
    // A's own signed call is served.
    const own = await send(keyPrincipal(a), { method: "POST", path: "/path", origin: `http://${found.urlId}.lambda-url.us-east-1.localhost`, raw: "from a" });
    expect(own.status).toBe(200);
  });
});

describe("a function of B's with the name of A's durable function", () => {
  it("lists none of A's executions, and A's execution ARN in B's account names nothing", async () => {
    await createActive(b, createFunctionBody(DURABLE_FN, { "index.js": AWAITS_CALLBACK }, { DurableConfig: { ExecutionTimeout: 900, RetentionPeriodInDays: 1 }, Publish: true }));
    for (const who of [keyPrincipal(b), bSession]) {
      const listed = await ok(await send(who, rest("GET", `${D}/functions/${DURABLE_FN}/durable-executions`)), "B's ListDurableExecutionsByFunction");
      expect(listed.DurableExecutions).toEqual([]);
      const inB = found.executionArn.replace(a.accountId, b.accountId);
      expect((await send(who, rest("GET", `${D}/durable-executions/${enc(inB)}`))).status).toBe(404);
      expect((await send(who, rest("POST", `${D}/durable-execution-callbacks/${enc(found.callbackId)}/succeed`, "stolen"))).status).toBe(404);
    }
    const mine = await ok(await send(keyPrincipal(a), rest("GET", `${D}/durable-executions/${enc(found.executionArn)}`)), "A's GetDurableExecution");
    expect(mine.Status).toBe("RUNNING");
  });
});

describe("the console's exempt routes", () => {
  it("refuses sign-in with in-function session credentials, and keeps B's session off the operator page", async () => {
    const fields = new URLSearchParams({ accessKeyId: bSession.accessKeyId, secret: bSession.secretAccessKey, adminToken: "" });
    const signIn = await exports.default.fetch(`${BASE}/console/login`, { method: "POST", body: fields.toString(), headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE }, redirect: "manual" });
    expect(signIn.status).toBe(401);
    expect(signIn.headers.get("set-cookie")).toBeNull();
    const { cookie } = await consoleSession(keyPrincipal(b));
    const operator = await exports.default.fetch(`${BASE}/console/operator`, { headers: { cookie }, redirect: "manual" });
    expect([operator.status, operator.headers.get("location")]).toEqual([303, "/console/login"]);
  });
});
