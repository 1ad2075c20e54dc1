/**
 * Recursive loop detection end to end (issue 18), with the real SDKs against
 * `wrangler dev`: functions that loop through cellfn's own APIs with the AWS
 * SDK inside them, exactly as a user's code would, and nothing in the test
 * feeding the loop.
 * - a function that re-invokes itself asynchronously forever stops after 16
 *   runs; the stopped event is a failed event with condition
 *   RecursiveInvocationException;
 * - the same function with RecursiveLoop=Allow keeps going (the handler stops
 *   itself at 20 runs);
 * - a function fed by an SQS queue that sends a message back to the same queue
 *   stops after 16 runs; the stopped message moves to the queue's dead-letter
 *   queue through its redrive policy;
 * - a fan-out (one event making 20 others of another function) is not a loop.
 */
import {
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  GetFunctionRecursionConfigCommand,
  InvokeCommand,
  type LambdaClient,
  PutFunctionEventInvokeConfigCommand,
  PutFunctionRecursionConfigCommand,
} from "@aws-sdk/client-lambda";
import { CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenantWithKey, lambdaClient, type Platform, startPlatform, type TenantCredentials, untilActive } from "./harness";

/** Re-invokes itself asynchronously with n + 1; stops by itself (a function error) at `event.stopAt`. */
const SELF_INVOKER = `
const { LambdaClient, InvokeCommand } = require("@aws-sdk/client-lambda");
const lambda = new LambdaClient({});
exports.handler = async (event) => {
  const n = event.n ?? 1;
  if (event.stopAt !== undefined && n >= event.stopAt) throw new Error("stopped by the handler at " + n);
  await lambda.send(new InvokeCommand({
    FunctionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    InvocationType: "Event",
    Payload: JSON.stringify({ ...event, n: n + 1 }),
  }));
  return n;
};`;

/** For each SQS message, sends the next one back to the same queue. */
const QUEUE_LOOPER = `
const { SQSClient, SendMessageCommand } = require("@aws-sdk/client-sqs");
const sqs = new SQSClient({});
exports.handler = async (event) => {
  for (const record of event.Records) {
    const n = JSON.parse(record.body).n;
    console.log("RUN " + n);
    await sqs.send(new SendMessageCommand({ QueueUrl: process.env.QUEUE_URL, MessageBody: JSON.stringify({ n: n + 1 }) }));
  }
};`;

/** Invokes the worker function asynchronously 20 times (a fan-out, not a loop). */
const FAN_OUT = `
const { LambdaClient, InvokeCommand } = require("@aws-sdk/client-lambda");
const lambda = new LambdaClient({});
exports.handler = async () => {
  for (let i = 0; i < 20; i++) {
    await lambda.send(new InvokeCommand({ FunctionName: "fan-worker", InvocationType: "Event", Payload: JSON.stringify({ i }) }));
  }
  return "sent";
};`;
const FAN_WORKER = `exports.handler = async (event) => { console.log("WORKER " + event.i); return event.i; };`;

let platform: Platform;
let acme: TenantCredentials;
let lambda: LambdaClient;
let sqs: SQSClient;
let logs: CloudWatchLogsClient;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await sleep(500);
  }
}

interface FailedEventView {
  Condition: string;
  Record: { requestPayload?: { n?: number } };
}

async function failedEvents(name: string): Promise<FailedEventView[]> {
  const res = await fetch(`${platform.url}/cellfn/v1/functions/${name}/failed-events`, {
    headers: { authorization: `Bearer ${acme.token}` },
    signal: AbortSignal.timeout(30_000),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { FailedEvents: FailedEventView[] }).FailedEvents;
}

/** Lines of the function's log group carrying `marker `. */
async function logged(name: string, marker: string): Promise<string[]> {
  const out = await logs.send(new FilterLogEventsCommand({ logGroupName: `/aws/lambda/${name}`, filterPattern: `"${marker}"` })).catch(() => ({ events: [] }));
  return (out.events ?? []).map((e) => e.message ?? "").filter((m) => m.includes(`${marker} `));
}

async function deploy(name: string, code: string, variables: Record<string, string> = {}): Promise<void> {
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Role: "arn:aws:iam::123456789012:role/r",
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      Code: { ZipFile: zipSync({ "index.js": strToU8(code) }) },
      Environment: { Variables: variables },
    }),
  );
  await untilActive(lambda, name);
}

beforeAll(async () => {
  platform = await startPlatform();
  acme = await createTenantWithKey(platform, "acme");
  lambda = lambdaClient(platform, acme);
  const client = {
    endpoint: platform.url,
    region: "us-east-1",
    credentials: { accessKeyId: acme.accessKeyId, secretAccessKey: acme.secretAccessKey },
    maxAttempts: 1,
  };
  sqs = new SQSClient(client);
  logs = new CloudWatchLogsClient(client);
  await Promise.all([
    deploy("self-loop", SELF_INVOKER),
    deploy("self-loop-allowed", SELF_INVOKER),
    deploy("fan-out", FAN_OUT),
    deploy("fan-worker", FAN_WORKER),
  ]);
  for (const name of ["self-loop", "self-loop-allowed"]) {
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: name, MaximumRetryAttempts: 0 }));
  }
});

afterAll(async () => {
  await platform?.stop();
});

describe("recursive loop detection", () => {
  it("stops a function re-invoking itself asynchronously after 16 runs, with the event kept as a failed event", async () => {
    expect((await lambda.send(new GetFunctionRecursionConfigCommand({ FunctionName: "self-loop" }))).RecursiveLoop).toBe("Terminate");
    await lambda.send(new InvokeCommand({ FunctionName: "self-loop", InvocationType: "Event", Payload: JSON.stringify({ n: 1 }) }));
    const [stopped] = await until("the loop to be stopped", () => failedEvents("self-loop"), (events) => events.length > 0);
    expect(stopped?.Condition).toBe("RecursiveInvocationException");
    // Runs 1..16 happened; the event for run 17 was stopped.
    expect(stopped?.Record.requestPayload?.n).toBe(17);
    await sleep(3_000);
    expect(await failedEvents("self-loop")).toHaveLength(1);
  });

  it("lets a function set to Allow loop past 16 runs", async () => {
    const put = await lambda.send(new PutFunctionRecursionConfigCommand({ FunctionName: "self-loop-allowed", RecursiveLoop: "Allow" }));
    expect(put.RecursiveLoop).toBe("Allow");
    await lambda.send(
      new InvokeCommand({ FunctionName: "self-loop-allowed", InvocationType: "Event", Payload: JSON.stringify({ n: 1, stopAt: 20 }) }),
    );
    const [ended] = await until("the handler to stop itself", () => failedEvents("self-loop-allowed"), (events) => events.length > 0);
    expect(ended?.Condition).toBe("RetriesExhausted");
    expect(ended?.Record.requestPayload?.n).toBe(20);
  });

  it("stops a function that feeds its own SQS queue after 16 runs; the stopped message goes to the queue's dead-letter queue", async () => {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: "loop-dlq" }));
    const dlqArn = `arn:aws:sqs:us-east-1:${acme.accountId}:loop-dlq`;
    const queue = await sqs.send(
      new CreateQueueCommand({
        QueueName: "loop",
        Attributes: { VisibilityTimeout: "2", RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }) },
      }),
    );
    const queueUrl = queue.QueueUrl ?? "";
    await deploy("queue-loop", QUEUE_LOOPER, { QUEUE_URL: queueUrl });
    await lambda.send(
      new CreateEventSourceMappingCommand({ FunctionName: "queue-loop", EventSourceArn: `arn:aws:sqs:us-east-1:${acme.accountId}:loop`, BatchSize: 1 }),
    );
    // The first message comes from outside any function: run 1.
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ n: 1 }) }));

    const inDlq = await until(
      "the stopped message in the dead-letter queue",
      async () => (await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.QueueUrl, WaitTimeSeconds: 1, MessageSystemAttributeNames: ["All"] }))).Messages ?? [],
      (messages) => messages.length > 0,
    );
    expect(inDlq.map((m) => JSON.parse(m.Body ?? "{}").n)).toEqual([17]);
    expect(inDlq[0]?.Attributes?.AWSTraceHeader).toMatch(/Lineage=[0-9a-f]{8}:16/);
    const runs = await logged("queue-loop", "RUN");
    expect(runs).toHaveLength(16);
    // Nothing is left behind in the source queue.
    const left = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] }));
    expect(Number(left.Attributes?.ApproximateNumberOfMessages) + Number(left.Attributes?.ApproximateNumberOfMessagesNotVisible)).toBe(0);
  });

  it("never stops a fan-out: 20 invocations of another function made by one event all run", async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: "fan-out", Payload: JSON.stringify({}) }));
    expect(out.FunctionError).toBeUndefined();
    const lines = await until("the 20 workers", () => logged("fan-worker", "WORKER"), (l) => l.length >= 20);
    expect(lines).toHaveLength(20);
    expect(await failedEvents("fan-worker")).toEqual([]);
  });
});
