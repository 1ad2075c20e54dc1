/**
 * Asynchronous invoke end to end, as a user does it: `wrangler dev` started by
 * the harness (ASYNC_RETRY_UNIT_SECONDS=1, so Lambda's 1 and 2 minute retry
 * waits take 1 and 2 seconds), tenants and keys from the admin API, functions
 * created from zips built here, every Lambda operation made with the real
 * @aws-sdk/client-lambda (maxAttempts 1), and the cellfn extension API
 * (`/cellfn/v1/...`: failed events, redrive, destination signing key) called
 * with plain fetch and the bearer form of the key.
 *
 * Events are run by the real poller (wrangler dev's local queues deliver them
 * to the Worker's queue() handler); http destinations are POSTed to a real
 * HTTP server in this process, and handlers report every run to that server
 * through their outbound fetch (ALLOW_PRIVATE_EGRESS is true in the harness),
 * so "the handler ran N times" is observed from outside, not read from D1.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  CreateFunctionCommand,
  type CreateFunctionCommandInput,
  DeleteFunctionEventInvokeConfigCommand,
  GetFunctionEventInvokeConfigCommand,
  InvokeCommand,
  type InvokeCommandOutput,
  type LambdaClient,
  ListFunctionEventInvokeConfigsCommand,
  PublishVersionCommand,
  PutFunctionEventInvokeConfigCommand,
  type PutFunctionEventInvokeConfigCommandInput,
  UpdateFunctionConfigurationCommand,
  UpdateFunctionEventInvokeConfigCommand,
} from "@aws-sdk/client-lambda";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenantWithKey, lambdaClient, type Platform, startPlatform, type TenantCredentials, untilActive, untilUpdated } from "./harness";

const ROLE = "arn:aws:iam::123456789012:role/lambda-role";
const MTIME = new Date("2024-01-01T00:00:00Z");
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function zipOf(files: Record<string, string>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([name, source]) => [name, [strToU8(source), { mtime: MTIME }]])));
}

// ---------------------------------------------------------------------------
// Handlers. Each one first reports the run to RUNS_URL (the receiver below):
// one POST per execution of the handler, with the request id it ran under.

const REPORT_RUN = `
async function reportRun(event, context) {
  const res = await fetch(process.env.RUNS_URL, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ requestId: context.awsRequestId, fixed: process.env.FIXED ?? null, event }),
  });
  await res.arrayBuffer();
}
`;

/** Echoes its event. */
const OK_JS = `${REPORT_RUN}
exports.handler = async (event, context) => {
  await reportRun(event, context);
  return { echoed: event };
};
`;

/** Fails until the function is "fixed" by setting FIXED=1 in its environment. */
const FAILING_JS = `${REPORT_RUN}
exports.handler = async (event, context) => {
  await reportRun(event, context);
  if (process.env.FIXED !== "1") throw new Error("boom " + JSON.stringify(event));
  return { fixed: true, event };
};
`;

const ZIPS = { ok: zipOf({ "index.js": OK_JS }), failing: zipOf({ "index.js": FAILING_JS }) };

// ---------------------------------------------------------------------------
// TEST DOUBLE of a customer's webhook endpoint: the external receiver of http
// destinations and dead-letter deliveries (in production a tenant's server on
// the internet). A real Node HTTP server on 127.0.0.1 that keeps every request
// and answers 200. Paths: /dest/<name> for destination records, /runs/<name>
// for the handlers' run reports.

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

class Receiver {
  readonly requests: Received[] = [];
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      this.requests.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() });
      res.writeHead(200, { "content-type": "text/plain" }).end("received");
    });
  });
  url = "";

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  at(path: string): Received[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Parsed JSON bodies of the requests to `path`. */
  json(path: string): any[] {
    return this.at(path).map((r) => JSON.parse(r.body));
  }

  /** Run reports of one request id at /runs/<name>. */
  runs(name: string, requestId: string): any[] {
    return this.json(`/runs/${name}`).filter((r) => r.requestId === requestId);
  }

  /** Destination deliveries at /<path> whose record is about `requestId`. */
  records(path: string, requestId: string): Received[] {
    return this.at(path).filter((r) => JSON.parse(r.body)?.requestContext?.requestId === requestId);
  }
}

async function waitFor<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 25_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Verifies `X-Cellfn-Signature: t=<t>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>` as a customer's webhook would. */
function verifySignature(key: string, header: string | string[] | undefined, body: string): { valid: boolean; t: number } {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(typeof header === "string" ? header : "");
  if (!match) return { valid: false, t: 0 };
  const t = Number(match[1]);
  const expected = createHmac("sha256", key).update(`${t}.${body}`).digest();
  return { valid: timingSafeEqual(expected, Buffer.from(match[2]!, "hex")), t };
}

// ---------------------------------------------------------------------------
// SDK helpers

type SdkError = Error & { $metadata?: { httpStatusCode?: number; requestId?: string } };

/** Resolves to the error the SDK threw; fails the test if the call succeeded. */
async function sdkError(call: Promise<unknown>): Promise<SdkError> {
  return call.then(
    (result) => {
      throw new Error(`expected the call to fail, it returned ${JSON.stringify(result, (_k, v) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : v))}`);
    },
    (err: unknown) => err as SdkError,
  );
}

function invokeEvent(client: LambdaClient, name: string, payload: unknown): Promise<InvokeCommandOutput> {
  return client.send(new InvokeCommand({ FunctionName: name, InvocationType: "Event", Payload: JSON.stringify(payload) }));
}

/** An Event invoke that must be accepted: returns the 202's request id. */
async function accepted(client: LambdaClient, name: string, payload: unknown): Promise<string> {
  const out = await invokeEvent(client, name, payload);
  expect(out.StatusCode).toBe(202);
  expect(out.$metadata.httpStatusCode).toBe(202);
  const requestId = out.$metadata.requestId;
  expect(requestId).toMatch(UUID);
  return requestId!;
}

// ---------------------------------------------------------------------------

describe("asynchronous invoke through the AWS SDK", () => {
  const receiver = new Receiver();
  let platform: Platform;
  let acme: TenantCredentials;
  let other: TenantCredentials;
  let lambda: LambdaClient;
  let otherLambda: LambdaClient;
  const arn = (name: string, qualifier?: string) =>
    `arn:aws:lambda:us-east-1:${acme.accountId}:function:${name}${qualifier ? `:${qualifier}` : ""}`;
  const runsUrl = (name: string) => `${receiver.url}/runs/${name}`;
  const destUrl = (name: string) => `${receiver.url}/dest/${name}`;

  /** The cellfn extension API with the bearer form of a key. */
  async function cellfn(creds: TenantCredentials, method: string, path: string) {
    const res = await fetch(`${platform.url}/cellfn/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${creds.token}` },
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let body: any;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, headers: res.headers, body, text };
  }

  // Set by the retries test, used by the failed-events test.
  let failingRequestId: string | undefined;
  let failingRecord: any;

  beforeAll(async () => {
    await receiver.start();
    platform = await startPlatform({ vars: { ASYNC_RETRY_UNIT_SECONDS: "1" } });
    acme = await createTenantWithKey(platform, "acme");
    other = await createTenantWithKey(platform, "other");
    lambda = lambdaClient(platform, acme);
    otherLambda = lambdaClient(platform, other);

    const fnInput = (name: string, zip: Uint8Array, extra: Partial<CreateFunctionCommandInput> = {}): CreateFunctionCommandInput => ({
      FunctionName: name,
      Role: ROLE,
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      Code: { ZipFile: zip },
      Environment: { Variables: { RUNS_URL: runsUrl(name) } },
      ...extra,
    });
    const inputs = [
      fnInput("ok", ZIPS.ok),
      fnInput("failing", ZIPS.failing),
      fnInput("noretry", ZIPS.failing),
      fnInput("chained", ZIPS.ok),
      fnInput("sink", ZIPS.ok),
      fnInput("dead-lettered", ZIPS.failing),
      fnInput("eic", ZIPS.ok),
    ];
    for (let i = 0; i < inputs.length; i += 4) {
      await Promise.all(inputs.slice(i, i + 4).map((input) => lambda.send(new CreateFunctionCommand(input))));
    }
    for (const input of inputs) await untilActive(lambda, String(input.FunctionName));
    const configs: PutFunctionEventInvokeConfigCommandInput[] = [
      { FunctionName: "ok", DestinationConfig: { OnSuccess: { Destination: destUrl("ok") } } },
      // Default retries (no MaximumRetryAttempts): 2.
      {
        FunctionName: "failing",
        DestinationConfig: { OnSuccess: { Destination: destUrl("failing-success") }, OnFailure: { Destination: destUrl("failing") } },
      },
      { FunctionName: "noretry", MaximumRetryAttempts: 0, DestinationConfig: { OnFailure: { Destination: destUrl("noretry") } } },
      { FunctionName: "sink", DestinationConfig: { OnSuccess: { Destination: destUrl("sink") } } },
    ];
    await Promise.all(configs.map((input) => lambda.send(new PutFunctionEventInvokeConfigCommand(input))));
    // A function destination is checked to exist: sink is there now.
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "chained", DestinationConfig: { OnSuccess: { Destination: arn("sink") } } }));
  });

  afterAll(async () => {
    lambda?.destroy();
    otherLambda?.destroy();
    await platform?.stop();
    await receiver.stop();
  });

  it("Event invoke: 202 with a request id, the handler runs once, OnSuccess gets Lambda's Success record, signed with the tenant's key", async () => {
    const event = { name: "world", nested: { n: [1, 2, 3] } };
    const out = await invokeEvent(lambda, "ok", event);
    expect(out.StatusCode).toBe(202);
    expect(out.FunctionError).toBeUndefined();
    expect(out.Payload?.byteLength ?? 0).toBe(0);
    const requestId = out.$metadata.requestId!;
    expect(requestId).toMatch(UUID);

    const [delivery] = await waitFor("the Success record at /dest/ok", () => receiver.records("/dest/ok", requestId).length > 0 && receiver.records("/dest/ok", requestId));
    const record = JSON.parse(delivery!.body);
    expect(record).toEqual({
      version: "1.0",
      timestamp: expect.stringMatching(ISO_MS),
      requestContext: { requestId, functionArn: arn("ok", "$LATEST"), condition: "Success", approximateInvokeCount: 1 },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: "$LATEST" },
      responsePayload: { echoed: event },
    });
    expect(Math.abs(Date.parse(record.timestamp) - Date.now())).toBeLessThan(60_000);
    expect(delivery!.headers["content-type"]).toBe("application/json");
    expect(delivery!.headers["x-cellfn-request-id"]).toBe(requestId);

    // The signature verifies with the key from the extension API, and only with it.
    const keyRes = await cellfn(acme, "GET", "/destination-signing-key");
    expect(keyRes.status, keyRes.text).toBe(200);
    const signingKey: string = keyRes.body.Key;
    expect(signingKey).toMatch(/^[0-9a-f]{64}$/);
    const header = delivery!.headers["x-cellfn-signature"];
    const check = verifySignature(signingKey, header, delivery!.body);
    expect(check.valid, `X-Cellfn-Signature: ${String(header)}`).toBe(true);
    expect(Math.abs(check.t - Date.now() / 1000)).toBeLessThan(60);
    expect(verifySignature(signingKey, header, `${delivery!.body} `).valid).toBe(false);
    const otherKey = await cellfn(other, "GET", "/destination-signing-key");
    expect(otherKey.status).toBe(200);
    expect(otherKey.body.Key).not.toBe(signingKey);
    expect(verifySignature(otherKey.body.Key, header, delivery!.body).valid).toBe(false);

    // The handler ran exactly once, under the 202's request id; one record, and it is not a failed event.
    await sleep(1500);
    expect(receiver.runs("ok", requestId)).toEqual([{ requestId, fixed: null, event }]);
    expect(receiver.records("/dest/ok", requestId)).toHaveLength(1);
    const failed = await cellfn(acme, "GET", "/functions/ok/failed-events");
    expect(failed.status, failed.text).toBe(200);
    expect(failed.body.FailedEvents).toEqual([]);
  });

  it("refuses an Event invoke of a missing function (404, nothing delivered) and a payload over 1 MB (413)", async () => {
    const before = receiver.requests.length;
    const missing = await sdkError(invokeEvent(lambda, "no-such-function", { n: 1 }));
    expect({ name: missing.name, status: missing.$metadata?.httpStatusCode }).toEqual({ name: "ResourceNotFoundException", status: 404 });
    expect(missing.message).toContain(arn("no-such-function"));

    const tooLarge = await sdkError(
      lambda.send(new InvokeCommand({ FunctionName: "ok", InvocationType: "Event", Payload: JSON.stringify({ s: "x".repeat(1_048_576) }) })),
    );
    expect({ name: tooLarge.name, status: tooLarge.$metadata?.httpStatusCode }).toEqual({ name: "RequestEntityTooLargeException", status: 413 });

    // The same over plain fetch: exactly one byte over the limit.
    const res = await fetch(`${platform.url}/2015-03-31/functions/ok/invocations`, {
      method: "POST",
      headers: { authorization: `Bearer ${acme.token}`, "x-amz-invocation-type": "Event" },
      body: "x".repeat(1_048_577),
    });
    const body = await res.json();
    expect(res.status).toBe(413);
    expect(res.headers.get("x-amzn-errortype")).toMatch(/^RequestEntityTooLargeException/);
    expect(body).toMatchObject({ message: expect.stringContaining("1048577") });

    // Neither ran nor delivered anything.
    await sleep(2000);
    expect(receiver.requests.slice(before)).toEqual([]);
  });

  it("a failing handler with default retries runs 3 times, then OnFailure gets RetriesExhausted", async () => {
    const started = Date.now();
    const requestId = await accepted(lambda, "failing", { order: 7 });
    failingRequestId = requestId;
    const [delivery] = await waitFor("the RetriesExhausted record at /dest/failing", () => receiver.records("/dest/failing", requestId).length > 0 && receiver.records("/dest/failing", requestId), 40_000);
    // Retries wait 1 then 2 units (1 s here) after the failed attempts.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    const record = JSON.parse(delivery!.body);
    failingRecord = record;
    expect(record).toEqual({
      version: "1.0",
      timestamp: expect.stringMatching(ISO_MS),
      requestContext: { requestId, functionArn: arn("failing", "$LATEST"), condition: "RetriesExhausted", approximateInvokeCount: 3 },
      requestPayload: { order: 7 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      responsePayload: { errorType: "Error", errorMessage: 'boom {"order":7}', trace: expect.any(Array) },
    });
    expect(verifySignature((await cellfn(acme, "GET", "/destination-signing-key")).body.Key, delivery!.headers["x-cellfn-signature"], delivery!.body).valid).toBe(true);

    // Three runs, all under the 202's request id, the retries spaced by about 1 and 2 s.
    const runs = receiver.at("/runs/failing").filter((r) => JSON.parse(r.body).requestId === requestId);
    expect(runs.map((r) => JSON.parse(r.body))).toEqual(Array.from({ length: 3 }, () => ({ requestId, fixed: null, event: { order: 7 } })));
    expect(runs[1]!.at - runs[0]!.at).toBeGreaterThanOrEqual(900);
    expect(runs[2]!.at - runs[1]!.at).toBeGreaterThanOrEqual(1900);
    // And no more: one record, no fourth run, nothing at OnSuccess.
    await sleep(2500);
    expect(receiver.runs("failing", requestId)).toHaveLength(3);
    expect(receiver.records("/dest/failing", requestId)).toHaveLength(1);
    expect(receiver.records("/dest/failing-success", requestId)).toHaveLength(0);
  });

  it("MaximumRetryAttempts 0: one run, then RetriesExhausted with approximateInvokeCount 1", async () => {
    const requestId = await accepted(lambda, "noretry", { n: 3 });
    const [delivery] = await waitFor("the record at /dest/noretry", () => receiver.records("/dest/noretry", requestId).length > 0 && receiver.records("/dest/noretry", requestId));
    expect(JSON.parse(delivery!.body)).toMatchObject({
      requestContext: { requestId, functionArn: arn("noretry", "$LATEST"), condition: "RetriesExhausted", approximateInvokeCount: 1 },
      requestPayload: { n: 3 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
    });
    // A retry would come about 1 s after the first run.
    await sleep(2500);
    expect(receiver.runs("noretry", requestId)).toHaveLength(1);
    expect(receiver.records("/dest/noretry", requestId)).toHaveLength(1);
  });

  it("delivers to a function destination: the other function runs with the record as its event", async () => {
    const requestId = await accepted(lambda, "chained", { n: 4 });
    // sink ran with chained's record and sent its own Success record to its http OnSuccess.
    const delivery = await waitFor("sink's record at /dest/sink", () =>
      receiver.at("/dest/sink").find((r) => JSON.parse(r.body).requestPayload?.requestContext?.requestId === requestId),
    );
    const sinkRecord = JSON.parse(delivery.body);
    const chainedRecord = {
      version: "1.0",
      timestamp: expect.stringMatching(ISO_MS),
      requestContext: { requestId, functionArn: arn("chained", "$LATEST"), condition: "Success", approximateInvokeCount: 1 },
      requestPayload: { n: 4 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST" },
      responsePayload: { echoed: { n: 4 } },
    };
    expect(sinkRecord).toEqual({
      version: "1.0",
      timestamp: expect.stringMatching(ISO_MS),
      requestContext: {
        requestId: expect.stringMatching(UUID),
        functionArn: arn("sink", "$LATEST"),
        condition: "Success",
        approximateInvokeCount: 1,
      },
      requestPayload: chainedRecord,
      responseContext: { statusCode: 200, executedVersion: "$LATEST" },
      responsePayload: { echoed: sinkRecord.requestPayload },
    });
    expect(sinkRecord.requestContext.requestId).not.toBe(requestId);
    expect(receiver.runs("chained", requestId)).toHaveLength(1);
    const sinkRuns = receiver.runs("sink", sinkRecord.requestContext.requestId);
    expect(sinkRuns).toHaveLength(1);
    expect(sinkRuns[0].event).toEqual(sinkRecord.requestPayload);
  });

  it("Put / Get / Update / List / Delete FunctionEventInvokeConfig through the SDK, with Lambda's validation errors", async () => {
    const before = Date.now();
    const put = await lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: "eic",
        MaximumRetryAttempts: 1,
        DestinationConfig: { OnSuccess: { Destination: arn("sink") } },
      }),
    );
    expect(put.$metadata.httpStatusCode).toBe(200);
    expect(put.FunctionArn).toBe(arn("eic", "$LATEST"));
    expect(put.MaximumRetryAttempts).toBe(1);
    expect(put.MaximumEventAgeInSeconds).toBeUndefined();
    expect(put.DestinationConfig).toEqual({ OnSuccess: { Destination: arn("sink") }, OnFailure: {} });
    // LastModified is a JSON number (epoch seconds) that the SDK parses into a Date.
    expect(put.LastModified).toBeInstanceOf(Date);
    expect(put.LastModified!.getTime()).toBeGreaterThanOrEqual(before - 2000);
    expect(put.LastModified!.getTime()).toBeLessThanOrEqual(Date.now() + 2000);

    const got = await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: "eic" }));
    const { $metadata: _g, ...gotConfig } = got;
    const { $metadata: _p, ...putConfig } = put;
    expect(gotConfig).toEqual(putConfig);
    expect(got.LastModified).toBeInstanceOf(Date);

    // Update merges: the age is added, the retries and OnSuccess stay.
    await sleep(20);
    const updated = await lambda.send(
      new UpdateFunctionEventInvokeConfigCommand({
        FunctionName: "eic",
        MaximumEventAgeInSeconds: 120,
        DestinationConfig: { OnFailure: { Destination: destUrl("eic-failed") } },
      }),
    );
    const { $metadata: _u, ...updatedConfig } = updated;
    expect(updatedConfig).toEqual({
      LastModified: expect.any(Date),
      FunctionArn: arn("eic", "$LATEST"),
      MaximumRetryAttempts: 1,
      MaximumEventAgeInSeconds: 120,
      DestinationConfig: { OnSuccess: { Destination: arn("sink") }, OnFailure: { Destination: destUrl("eic-failed") } },
    });
    expect(updated.LastModified!.getTime()).toBeGreaterThanOrEqual(put.LastModified!.getTime());

    // List: $LATEST and a published version's own config.
    const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: "eic" }));
    expect(v1.Version).toBe("1");
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "eic", Qualifier: "1", MaximumRetryAttempts: 0 }));
    const listed = await lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: "eic" }));
    expect(listed.NextMarker).toBeUndefined();
    expect(listed.FunctionEventInvokeConfigs?.map((c) => [c.FunctionArn, c.MaximumRetryAttempts, c.MaximumEventAgeInSeconds])).toEqual([
      [arn("eic", "$LATEST"), 1, 120],
      [arn("eic", "1"), 0, undefined],
    ]);
    expect(listed.FunctionEventInvokeConfigs?.[0]).toEqual(updatedConfig);
    expect(listed.FunctionEventInvokeConfigs?.every((c) => c.LastModified instanceof Date)).toBe(true);
    const paged = await lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: "eic", MaxItems: 1 }));
    expect(paged.FunctionEventInvokeConfigs?.map((c) => c.FunctionArn)).toEqual([arn("eic", "$LATEST")]);
    const rest = await lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: "eic", MaxItems: 1, Marker: paged.NextMarker }));
    expect(rest.FunctionEventInvokeConfigs?.map((c) => c.FunctionArn)).toEqual([arn("eic", "1")]);

    // Delete: 204, then Get is ResourceNotFoundException; the version's config stays.
    const deleted = await lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: "eic" }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    const gone = await sdkError(lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: "eic" })));
    expect({ name: gone.name, status: gone.$metadata?.httpStatusCode }).toEqual({ name: "ResourceNotFoundException", status: 404 });
    expect(gone.message).toBe(`The function ${arn("eic", "$LATEST")} doesn't have an EventInvokeConfig`);
    const remaining = await lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: "eic" }));
    expect(remaining.FunctionEventInvokeConfigs?.map((c) => c.FunctionArn)).toEqual([arn("eic", "1")]);

    // Validation, as Lambda words it.
    const retries = await sdkError(lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "eic", MaximumRetryAttempts: 3 })));
    expect({ name: retries.name, status: retries.$metadata?.httpStatusCode, message: retries.message }).toEqual({
      name: "ValidationException",
      status: 400,
      message:
        "1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2",
    });
    const age = await sdkError(lambda.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: "eic", Qualifier: "1", MaximumEventAgeInSeconds: 59 })));
    expect({ name: age.name, status: age.$metadata?.httpStatusCode, message: age.message }).toEqual({
      name: "ValidationException",
      status: 400,
      message:
        "1 validation error detected: Value '59' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60",
    });
    // Neither wrote anything.
    expect((await sdkError(lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: "eic" })))).name).toBe("ResourceNotFoundException");
    const v1Config = await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: "eic", Qualifier: "1" }));
    expect(v1Config.MaximumEventAgeInSeconds).toBeUndefined();
    expect(v1Config.MaximumRetryAttempts).toBe(0);
  });

  it("DeadLetterConfig: with no OnFailure destination, the failure record goes to the dead-letter target", async () => {
    const updated = await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: "dead-lettered", DeadLetterConfig: { TargetArn: destUrl("dlq") } }),
    );
    expect(updated.DeadLetterConfig).toEqual({ TargetArn: destUrl("dlq") });
    await untilUpdated(lambda, "dead-lettered");
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: "dead-lettered", MaximumRetryAttempts: 0 }));

    const requestId = await accepted(lambda, "dead-lettered", { n: 30 });
    const [delivery] = await waitFor("the record at /dest/dlq", () => receiver.records("/dest/dlq", requestId).length > 0 && receiver.records("/dest/dlq", requestId));
    expect(JSON.parse(delivery!.body)).toEqual({
      version: "1.0",
      timestamp: expect.stringMatching(ISO_MS),
      requestContext: { requestId, functionArn: arn("dead-lettered", "$LATEST"), condition: "RetriesExhausted", approximateInvokeCount: 1 },
      requestPayload: { n: 30 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      responsePayload: { errorType: "Error", errorMessage: 'boom {"n":30}', trace: expect.any(Array) },
    });
    expect(verifySignature((await cellfn(acme, "GET", "/destination-signing-key")).body.Key, delivery!.headers["x-cellfn-signature"], delivery!.body).valid).toBe(true);
    expect(receiver.runs("dead-lettered", requestId)).toHaveLength(1);
  });

  it("failed events: listed with the record OnFailure got; after a fix, redrive runs the event again and it succeeds", async () => {
    expect(failingRequestId, "the retries test produces the failed event").toBeDefined();
    const listed = await cellfn(acme, "GET", "/functions/failing/failed-events");
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.NextMarker).toBeUndefined();
    expect(listed.body.FailedEvents).toEqual([
      {
        Id: expect.stringMatching(UUID),
        RequestId: failingRequestId,
        Condition: "RetriesExhausted",
        CreatedAt: expect.stringMatching(ISO_MS),
        Record: failingRecord,
      },
    ]);
    const [failed] = listed.body.FailedEvents;
    // By full ARN too.
    const byArn = await cellfn(acme, "GET", `/functions/${encodeURIComponent(arn("failing"))}/failed-events`);
    expect(byArn.body).toEqual(listed.body);

    // Fix the function: the handler succeeds once FIXED=1.
    const fixed = await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: "failing", Environment: { Variables: { RUNS_URL: runsUrl("failing"), FIXED: "1" } } }),
    );
    expect(fixed.Environment?.Variables).toEqual({ RUNS_URL: runsUrl("failing"), FIXED: "1" });
    await untilUpdated(lambda, "failing");

    const redrive = await cellfn(acme, "POST", `/functions/failing/failed-events/${failed.Id}/redrive`);
    expect(redrive.status, redrive.text).toBe(202);
    const redrivenId: string = redrive.body.RequestId;
    expect(redrivenId).toMatch(UUID);
    expect(redrivenId).not.toBe(failingRequestId);
    expect(redrive.headers.get("x-amzn-requestid")).toBe(redrivenId);

    const [delivery] = await waitFor("the redriven event's Success record at /dest/failing-success", () =>
      receiver.records("/dest/failing-success", redrivenId).length > 0 && receiver.records("/dest/failing-success", redrivenId),
    );
    expect(JSON.parse(delivery!.body)).toEqual({
      version: "1.0",
      timestamp: expect.stringMatching(ISO_MS),
      requestContext: { requestId: redrivenId, functionArn: arn("failing", "$LATEST"), condition: "Success", approximateInvokeCount: 1 },
      requestPayload: { order: 7 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST" },
      responsePayload: { fixed: true, event: { order: 7 } },
    });
    expect(receiver.runs("failing", redrivenId)).toEqual([{ requestId: redrivenId, fixed: "1", event: { order: 7 } }]);

    // The failed event stays listed, marked as redriven; nothing new failed.
    const after = await cellfn(acme, "GET", "/functions/failing/failed-events");
    expect(after.body.FailedEvents).toHaveLength(1);
    expect(after.body.FailedEvents[0]).toMatchObject({ Id: failed.Id, RequestId: failingRequestId, RedrivenAt: expect.stringMatching(ISO_MS) });
  });

  it("keeps tenants apart: another tenant can neither see nor redrive the failed events, nor Event-invoke the function", async () => {
    const listed = await cellfn(acme, "GET", "/functions/failing/failed-events");
    const [failed] = listed.body.FailedEvents;
    expect(failed?.Id).toMatch(UUID);

    // Listing by name: the other tenant has no function "failing", and sees none of acme's failed events.
    const otherList = await cellfn(other, "GET", "/functions/failing/failed-events");
    expect(otherList.text).not.toContain(failed.Id);
    expect(otherList.text).not.toContain(acme.accountId);
    expect({ status: otherList.status, body: otherList.body }).toEqual({ status: 200, body: { FailedEvents: [] } });
    // By acme's ARN: another account.
    const otherByArn = await cellfn(other, "GET", `/functions/${encodeURIComponent(arn("failing"))}/failed-events`);
    expect(otherByArn.text).not.toContain(failed.Id);
    expect(otherByArn.status).toBe(403);
    expect(otherByArn.headers.get("x-amzn-errortype")).toMatch(/^AccessDeniedException/);

    // Redriving acme's failed event: 404, exactly as an id that does not exist.
    const stolen = await cellfn(other, "POST", `/functions/failing/failed-events/${failed.Id}/redrive`);
    const unknown = await cellfn(other, "POST", `/functions/failing/failed-events/${crypto.randomUUID()}/redrive`);
    expect(stolen.status, stolen.text).toBe(404);
    expect(stolen.headers.get("x-amzn-errortype")).toMatch(/^ResourceNotFoundException/);
    expect(unknown.status).toBe(404);
    // Same body but for the id: nothing tells the caller that the id exists elsewhere.
    expect(stolen.text.replace(failed.Id, "<id>")).toBe(unknown.text.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/, "<id>"));
    expect(stolen.body).toEqual({ Type: "User", Message: expect.stringContaining(failed.Id) });

    // An Event invoke of acme's function by name: 404, and the function does not run.
    const runsBefore = receiver.at("/runs/ok").length;
    const invoke = await sdkError(invokeEvent(otherLambda, "ok", { from: "other" }));
    expect({ name: invoke.name, status: invoke.$metadata?.httpStatusCode }).toEqual({ name: "ResourceNotFoundException", status: 404 });
    expect(invoke.message).not.toContain(acme.accountId);
    await sleep(1500);
    expect(receiver.at("/runs/ok").slice(runsBefore)).toEqual([]);

    // acme's failed event is untouched by the attempt.
    const again = await cellfn(acme, "GET", "/functions/failing/failed-events");
    expect(again.body.FailedEvents).toEqual(listed.body.FailedEvents);
  });
});
