import { AwsClient } from "aws4fetch";
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { md5Hex, md5OfMessageAttributes } from "../../src/sqs/md5";
import type { TenantKey } from "../helpers/platform";
import { awsJson, createFunctionBody, errorOf, fn, newTenant, signed, waitUntilSettled } from "../helpers/platform";
import type { ReceivedMessage } from "../helpers/sqs";
import { arnOf, attributes, createQueue, receive, sqsOk } from "../helpers/sqs";

/**
 * cellfn SQS queues as targets of async invokes, in workerd with the real
 * poller (the vitest plugin delivers the async queues to the Worker) and the
 * real SqsQueue objects: OnSuccess / OnFailure destinations get Lambda's
 * invocation record, DeadLetterConfig queues get the event with RequestID /
 * ErrorCode / ErrorMessage attributes, a queue gone at delivery leaves a
 * failed event, and configuration is refused for other accounts' queues.
 * Needs ASYNC_RETRY_UNIT_SECONDS = "1" (vitest.config.ts).
 */

const OK_CODE = `exports.handler = async (event) => ({ echoed: event });`;
const FAILING_CODE = `exports.handler = async (event) => { throw new Error("boom " + JSON.stringify(event)); };`;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const unique = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

let key: TenantKey;
let other: TenantKey;
const lambdaArn = (name: string, qualifier?: string) =>
  `arn:aws:lambda:us-east-1:${key.accountId}:function:${name}${qualifier === undefined ? "" : `:${qualifier}`}`;

beforeAll(async () => {
  key = await newTenant("full", "sqs-dest");
  other = await newTenant("full", "sqs-dest-other");
});

async function createFn(name: string, code: string, extra: Record<string, unknown> = {}) {
  const res = await signed(key, "POST", "/2015-03-31/functions", createFunctionBody(name, { "index.js": code }, extra));
  if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
  await waitUntilSettled(key, name);
}

/** The Sum of one of the function's Lambda metrics over the last 10 minutes (CloudWatch API; failure metrics are written before the failed event is kept). */
async function sumOf(metric: string, functionName: string): Promise<number> {
  const nowS = Math.floor(Date.now() / 1000);
  const res = await awsJson(key, "monitoring", "GraniteServiceVersion20100801.GetMetricStatistics", {
    Namespace: "AWS/Lambda", MetricName: metric, Dimensions: [{ Name: "FunctionName", Value: functionName }],
    StartTime: nowS - 600, EndTime: nowS + 60, Period: 60, Statistics: ["Sum"],
  });
  expect(res.status).toBe(200);
  return (res.body.Datapoints as Array<{ Sum: number }>).reduce((n, p) => n + p.Sum, 0);
}

const eic = (name: string) => `/2019-09-25/functions/${encodeURIComponent(name)}/event-invoke-config`;

async function putEventConfig(name: string, body: Record<string, unknown>) {
  const res = await signed(key, "PUT", eic(name), body);
  if (res.status !== 200) throw new Error(`event invoke config ${name}: ${res.status} ${await res.text()}`);
}

async function invokeEvent(name: string, payload: unknown): Promise<string> {
  const client = new AwsClient({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, service: "lambda", region: "us-east-1" });
  const request = await client.sign(`http://cellfn.test${fn(name)}/invocations`, {
    method: "POST",
    headers: { "X-Amz-Invocation-Type": "Event" },
    body: JSON.stringify(payload),
  });
  const res = await exports.default.fetch(request);
  if (res.status !== 202) throw new Error(`Event invoke ${name}: ${res.status} ${await res.text()}`);
  return res.headers.get("x-amzn-RequestId") ?? "";
}

/** The next message of a queue, long polling up to 20 s at a time. */
async function nextMessage(url: string): Promise<ReceivedMessage> {
  const deadline = Date.now() + 40_000;
  while (Date.now() < deadline) {
    const [message] = await receive(key, url, { WaitTimeSeconds: 20, MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"] });
    if (message) return message;
  }
  throw new Error(`no message on ${url}`);
}

interface FailedEventRow {
  condition: string;
  record: string;
}
const failedRows = async (requestId: string) =>
  (await env.DB.prepare("SELECT condition, record FROM failed_events WHERE request_id = ? ORDER BY created_at").bind(requestId).all<FailedEventRow>()).results;

async function waitForFailed(requestId: string, count: number): Promise<FailedEventRow[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const rows = await failedRows(requestId);
    if (rows.length >= count) return rows;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} failed events of ${requestId}; have ${JSON.stringify(rows)}`);
    await sleep(200);
  }
}

describe("SQS queues as async destinations", () => {
  it("OnSuccess: the queue gets Lambda's Success record as one message", async () => {
    const queue = unique("on-success");
    const url = await createQueue(key, queue);
    await createFn("dest-ok", OK_CODE);
    await putEventConfig("dest-ok", { DestinationConfig: { OnSuccess: { Destination: arnOf(key, queue) } } });
    const requestId = await invokeEvent("dest-ok", { n: 1 });

    const message = await nextMessage(url);
    expect(message.MD5OfBody).toBe(md5Hex(message.Body));
    expect(JSON.parse(message.Body)).toEqual({
      version: "1.0",
      timestamp: expect.stringMatching(ISO_MS),
      requestContext: { requestId, functionArn: lambdaArn("dest-ok", "$LATEST"), condition: "Success", approximateInvokeCount: 1 },
      requestPayload: { n: 1 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST" },
      responsePayload: { echoed: { n: 1 } },
    });
    expect(message.MessageAttributes).toBeUndefined();
    expect(message.Attributes?.SenderId).toBe(key.accountId);
    expect(await failedRows(requestId)).toEqual([]);
  });

  it("OnFailure and DeadLetterConfig: the record to OnFailure and the event, with RequestID / ErrorCode / ErrorMessage, to the dead-letter queue", async () => {
    const onFailure = unique("on-failure");
    const dlq = unique("dlq");
    const failureUrl = await createQueue(key, onFailure);
    const dlqUrl = await createQueue(key, dlq);
    await createFn("dest-failing", FAILING_CODE, { DeadLetterConfig: { TargetArn: arnOf(key, dlq) } });
    await putEventConfig("dest-failing", { MaximumRetryAttempts: 0, DestinationConfig: { OnFailure: { Destination: arnOf(key, onFailure) } } });
    const requestId = await invokeEvent("dest-failing", { n: 2 });

    const record = JSON.parse((await nextMessage(failureUrl)).Body);
    expect(record).toEqual({
      version: "1.0",
      timestamp: expect.stringMatching(ISO_MS),
      requestContext: { requestId, functionArn: lambdaArn("dest-failing", "$LATEST"), condition: "RetriesExhausted", approximateInvokeCount: 1 },
      requestPayload: { n: 2 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      responsePayload: { errorType: "Error", errorMessage: 'boom {"n":2}', trace: expect.any(Array) },
    });

    const dead = await nextMessage(dlqUrl);
    expect(dead.Body).toBe('{"n":2}');
    const expectedAttributes = {
      RequestID: { DataType: "String", StringValue: requestId },
      ErrorCode: { DataType: "Number", StringValue: "200" },
      ErrorMessage: { DataType: "String", StringValue: 'boom {"n":2}' },
    };
    expect(dead.MessageAttributes).toEqual(expectedAttributes);
    expect(dead.MD5OfMessageAttributes).toBe(md5OfMessageAttributes(expectedAttributes));
    // The event failed once, and only that is recorded: both deliveries went through.
    expect((await waitForFailed(requestId, 1)).map((r) => r.condition)).toEqual(["RetriesExhausted"]);
    await sleep(500);
    expect((await failedRows(requestId)).map((r) => r.condition)).toEqual(["RetriesExhausted"]);
  });

  it("a destination queue deleted before delivery: the record is kept as a DestinationDeliveryFailed failed event", async () => {
    const queue = unique("gone");
    const url = await createQueue(key, queue);
    await createFn("dest-gone", OK_CODE);
    await putEventConfig("dest-gone", { DestinationConfig: { OnSuccess: { Destination: arnOf(key, queue) } } });
    await sqsOk(key, "DeleteQueue", { QueueUrl: url });
    const requestId = await invokeEvent("dest-gone", { n: 3 });

    const [failed] = await waitForFailed(requestId, 1);
    expect(failed?.condition).toBe("DestinationDeliveryFailed");
    expect(JSON.parse(failed?.record ?? "")).toMatchObject({ requestContext: { requestId, condition: "Success" }, requestPayload: { n: 3 } });
    // A destination's failure, not a dead-letter one.
    expect(await sumOf("DestinationDeliveryFailures", "dest-gone")).toBe(1);
    expect(await sumOf("DeadLetterErrors", "dest-gone")).toBe(0);
  });

  it("a dead-letter queue deleted before delivery, and a FIFO one: the event is kept as a failed event besides RetriesExhausted", async () => {
    const gone = unique("dlq-gone");
    const goneUrl = await createQueue(key, gone);
    await createFn("dlq-gone", FAILING_CODE, { DeadLetterConfig: { TargetArn: arnOf(key, gone) } });
    await putEventConfig("dlq-gone", { MaximumRetryAttempts: 0 });
    await sqsOk(key, "DeleteQueue", { QueueUrl: goneUrl });
    const first = await invokeEvent("dlq-gone", { n: 4 });
    expect((await waitForFailed(first, 2)).map((r) => r.condition).sort()).toEqual(["DestinationDeliveryFailed", "RetriesExhausted"]);

    // FIFO queues are accepted in the configuration, as Lambda does, and refused at delivery.
    const fifo = `${unique("dlq")}.fifo`;
    const fifoUrl = await createQueue(key, fifo, { FifoQueue: "true", ContentBasedDeduplication: "true" });
    await createFn("dlq-fifo", FAILING_CODE, { DeadLetterConfig: { TargetArn: arnOf(key, fifo) } });
    await putEventConfig("dlq-fifo", { MaximumRetryAttempts: 0 });
    const second = await invokeEvent("dlq-fifo", { n: 5 });
    const rows = await waitForFailed(second, 2);
    expect(rows.map((r) => r.condition).sort()).toEqual(["DestinationDeliveryFailed", "RetriesExhausted"]);
    expect((await attributes(key, fifoUrl, ["ApproximateNumberOfMessages"])).ApproximateNumberOfMessages).toBe("0");

    // Counted as Lambda counts a dead-letter queue that refused: DeadLetterErrors, not DestinationDeliveryFailures.
    for (const fnName of ["dlq-gone", "dlq-fifo"]) {
      expect(await sumOf("DeadLetterErrors", fnName), fnName).toBe(1);
      expect(await sumOf("DestinationDeliveryFailures", fnName), fnName).toBe(0);
    }
  });
});

describe("configuration: queues of other accounts and malformed ARNs", () => {
  it("refuses another account's queue as a destination with Lambda's execution-role message, changing nothing", async () => {
    await createFn("dest-config", OK_CODE);
    const theirs = unique("theirs");
    const theirUrl = await createQueue(other, theirs);
    const theirArn = arnOf(other, theirs);
    const refusal = {
      status: 400,
      type: "InvalidParameterValueException",
      message: `The function's execution role does not have permissions to call SendMessage on ${theirArn}`,
    };
    expect(await errorOf(await signed(key, "PUT", eic("dest-config"), { DestinationConfig: { OnSuccess: { Destination: theirArn } } }))).toEqual(refusal);
    expect((await signed(key, "GET", eic("dest-config"))).status).toBe(404);
    // Update merges into an existing config: refused the same, the config stays as it was.
    await putEventConfig("dest-config", { MaximumRetryAttempts: 1 });
    expect(await errorOf(await signed(key, "POST", eic("dest-config"), { DestinationConfig: { OnFailure: { Destination: theirArn } } }))).toEqual(refusal);
    const kept = await (await signed(key, "GET", eic("dest-config"))).json<{ MaximumRetryAttempts: number; DestinationConfig: unknown }>();
    expect(kept).toMatchObject({ MaximumRetryAttempts: 1, DestinationConfig: { OnSuccess: {}, OnFailure: {} } });

    // A well-formed ARN of another region of the caller's account names no cellfn queue either.
    const elsewhere = `arn:aws:sqs:eu-west-1:${key.accountId}:q`;
    expect((await errorOf(await signed(key, "PUT", eic("dest-config"), { DestinationConfig: { OnFailure: { Destination: elsewhere } } }))).message).toBe(
      `The function's execution role does not have permissions to call SendMessage on ${elsewhere}`,
    );
    const malformed = `arn:aws:sqs:us-east-1:${key.accountId}:bad name`;
    expect(await errorOf(await signed(key, "PUT", eic("dest-config"), { DestinationConfig: { OnFailure: { Destination: malformed } } }))).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: `The destination ARN ${malformed} is invalid.`,
    });
    expect((await attributes(other, theirUrl, ["ApproximateNumberOfMessages"])).ApproximateNumberOfMessages).toBe("0");
  });

  it("accepts the account's own queue and shows it back", async () => {
    const queue = unique("mine");
    await createFn("dest-own", OK_CODE);
    const res = await signed(key, "PUT", eic("dest-own"), { DestinationConfig: { OnFailure: { Destination: arnOf(key, queue) } } });
    expect(res.status).toBe(200);
    expect((await res.json<{ DestinationConfig: unknown }>()).DestinationConfig).toEqual({ OnSuccess: {}, OnFailure: { Destination: arnOf(key, queue) } });
  });

  it("DeadLetterConfig with another account's queue: CreateFunction and UpdateFunctionConfiguration refuse it, nothing created or changed", async () => {
    const theirArn = arnOf(other, unique("their-dlq"));
    const create = await signed(key, "POST", "/2015-03-31/functions", createFunctionBody("dlq-refused", { "index.js": OK_CODE }, { DeadLetterConfig: { TargetArn: theirArn } }));
    expect(await errorOf(create)).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: "The provided execution role does not have permissions to call SendMessage on SQS",
    });
    expect((await signed(key, "GET", fn("dlq-refused"))).status).toBe(404);

    const mine = arnOf(key, unique("my-dlq"));
    await createFn("dlq-update", OK_CODE, { DeadLetterConfig: { TargetArn: mine } });
    const update = await signed(key, "PUT", `${fn("dlq-update")}/configuration`, { DeadLetterConfig: { TargetArn: theirArn } });
    expect((await errorOf(update)).message).toBe("The provided execution role does not have permissions to call SendMessage on SQS");
    const config = await (await signed(key, "GET", `${fn("dlq-update")}/configuration`)).json<{ DeadLetterConfig?: unknown }>();
    expect(config.DeadLetterConfig).toEqual({ TargetArn: mine });
  });
});
