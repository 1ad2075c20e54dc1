/**
 * The SQS-compatible API end to end with the real @aws-sdk/client-sqs (which
 * verifies MD5OfMessageBody on send, batch send and receive) against
 * `wrangler dev` started by the harness: queues, batches with attributes,
 * long polling, deletes, redrive to a dead-letter queue and back, FIFO, SQS's
 * errors as the SDK surfaces them, tenant isolation, and a queue with its
 * messages surviving a restart of `wrangler dev`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  ListQueuesCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";
import {
  CreateFunctionCommand,
  InvalidParameterValueException,
  InvokeCommand,
  PutFunctionEventInvokeConfigCommand,
} from "@aws-sdk/client-lambda";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenantWithKey, lambdaClient, type Platform, sqsClient, startPlatform, type TenantCredentials, untilActive } from "./harness";

async function errorOf(promise: Promise<unknown>): Promise<{ name: string; message: string; status?: number; code?: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number }; Code?: string };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode, code: e.Code };
  }
  throw new Error("expected the call to fail");
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let stateDir: string;
let platform: Platform;
let acme: TenantCredentials;
let other: TenantCredentials;
let sqs: SQSClient;

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), "cellfn-sqs-e2e-"));
  platform = await startPlatform({ stateDir });
  acme = await createTenantWithKey(platform, "acme");
  other = await createTenantWithKey(platform, "other");
  sqs = sqsClient(platform, acme);
});

afterAll(async () => {
  await platform?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe("SQS with the real SDK", () => {
  it("creates, sends a batch with attributes, long-polls, deletes", async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "orders", Attributes: { VisibilityTimeout: "20" } }));
    expect(QueueUrl).toBe(`${platform.url}/${acme.accountId}/orders`);
    expect((await sqs.send(new GetQueueUrlCommand({ QueueName: "orders" }))).QueueUrl).toBe(QueueUrl);

    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: Array.from({ length: 10 }, (_, i) => ({
          Id: `m${i}`,
          MessageBody: JSON.stringify({ order: i, note: "ünïcødé 😀" }),
          MessageAttributes: {
            kind: { DataType: "String", StringValue: i % 2 ? "odd" : "even" },
            amount: { DataType: "Number.int", StringValue: String(i * 100) },
            raw: { DataType: "Binary", BinaryValue: new Uint8Array([i, 0, 255]) },
          },
        })),
      }),
    );
    expect(sent.Successful).toHaveLength(10);
    expect(sent.Failed ?? []).toEqual([]);
    expect(sent.Successful?.[0]?.MD5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);

    const received = [];
    while (received.length < 10) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"] }));
      received.push(...(out.Messages ?? []));
    }
    const first = received.find((m) => m.Body?.includes('"order":3'));
    expect(first?.MessageAttributes?.kind?.StringValue).toBe("odd");
    expect(first?.MessageAttributes?.amount).toMatchObject({ DataType: "Number.int", StringValue: "300" });
    expect([...(first?.MessageAttributes?.raw?.BinaryValue ?? [])]).toEqual([3, 0, 255]);
    expect(first?.Attributes?.ApproximateReceiveCount).toBe("1");

    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl, Entries: received.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })) }),
    );
    expect(deleted.Successful).toHaveLength(10);

    const started = Date.now();
    const polling = sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 }));
    await sleep(500);
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "wake up" }));
    const woke = await polling;
    expect(woke.Messages?.[0]?.Body).toBe("wake up");
    expect(Date.now() - started).toBeLessThan(5000);
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: woke.Messages?.[0]?.ReceiptHandle }));
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] }));
    expect(attrs.Attributes).toMatchObject({ ApproximateNumberOfMessages: "0", ApproximateNumberOfMessagesNotVisible: "0", VisibilityTimeout: "20" });
  });

  it("redrives a poison message to the dead-letter queue and moves it back", async () => {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: "orders-dlq" }));
    const dlqArn = `arn:aws:sqs:us-east-1:${acme.accountId}:orders-dlq`;
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: "work",
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }) },
      }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "poison" }));
    for (let i = 0; i < 2; i++) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: out.Messages?.[0]?.ReceiptHandle, VisibilityTimeout: 0 }));
    }
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages ?? []).toEqual([]);
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.QueueUrl, MessageSystemAttributeNames: ["ApproximateReceiveCount"], VisibilityTimeout: 0 }));
    expect(dead.Messages?.[0]?.Body).toBe("poison");

    await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));
    let status: string | undefined;
    for (let i = 0; i < 40 && status !== "COMPLETED"; i++) {
      await sleep(250);
      status = (await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }))).Results?.[0]?.Status;
    }
    expect(status).toBe("COMPLETED");
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages?.[0]?.Body).toBe("poison");
  });

  it("FIFO: order per group and deduplication", async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "ledger.fifo", Attributes: { FifoQueue: "true", ContentBasedDeduplication: "true" } }));
    const a = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "one", MessageGroupId: "acct-1" }));
    const dup = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "one", MessageGroupId: "acct-1" }));
    expect(dup.MessageId).toBe(a.MessageId);
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "two", MessageGroupId: "acct-1" }));
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ["SequenceNumber"] }));
    expect(out.Messages?.map((m) => m.Body)).toEqual(["one", "two"]);
    expect(BigInt(out.Messages?.[1]?.Attributes?.SequenceNumber ?? "0")).toBeGreaterThan(BigInt(out.Messages?.[0]?.Attributes?.SequenceNumber ?? "0"));
  });

  it("errors arrive as the SDK's modelled exceptions; other tenants' queues do not exist", async () => {
    const missing = await errorOf(sqs.send(new GetQueueUrlCommand({ QueueName: "nope" })));
    expect(missing).toMatchObject({ name: "QueueDoesNotExist", status: 400, message: "The specified queue does not exist." });
    const theirs = sqsClient(platform, other);
    const foreign = await errorOf(theirs.send(new SendMessageCommand({ QueueUrl: `${platform.url}/${acme.accountId}/orders`, MessageBody: "x" })));
    expect(foreign).toEqual(await errorOf(theirs.send(new SendMessageCommand({ QueueUrl: `${platform.url}/${other.accountId}/orders`, MessageBody: "x" }))));
    await expect(theirs.send(new GetQueueUrlCommand({ QueueName: "orders" }))).rejects.toBeInstanceOf(QueueDoesNotExist);
    expect((await theirs.send(new ListQueuesCommand({}))).QueueUrls ?? []).toEqual([]);
    const bad = await errorOf(sqs.send(new ReceiveMessageCommand({ QueueUrl: `${platform.url}/${acme.accountId}/orders`, MaxNumberOfMessages: 11 })));
    expect(bad).toMatchObject({ status: 400, message: "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided." });
    const chars = await errorOf(sqs.send(new SendMessageCommand({ QueueUrl: `${platform.url}/${acme.accountId}/orders`, MessageBody: "bad \u0000" })));
    expect(chars.name).toBe("InvalidMessageContents");
  });

  it("queues as an async function's OnSuccess destination and dead-letter queue, set with the real client-lambda", { timeout: 120_000 }, async () => {
    const lambda = lambdaClient(platform, acme);
    const done = (await sqs.send(new CreateQueueCommand({ QueueName: "fn-done" }))).QueueUrl;
    const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: "fn-dlq" }))).QueueUrl;
    const arnOf = (name: string) => `arn:aws:sqs:us-east-1:${acme.accountId}:${name}`;
    const code = `exports.handler = async (event) => { if (event.fail) throw new Error("refused " + event.n); return { n: event.n }; };`;
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: "with-queues",
        Role: "arn:aws:iam::123456789012:role/r",
        Runtime: "nodejs22.x",
        Handler: "index.handler",
        Code: { ZipFile: zipSync({ "index.js": strToU8(code) }) },
        DeadLetterConfig: { TargetArn: arnOf("fn-dlq") },
      }),
    );
    await untilActive(lambda, "with-queues");
    await lambda.send(
      new PutFunctionEventInvokeConfigCommand({ FunctionName: "with-queues", MaximumRetryAttempts: 0, DestinationConfig: { OnSuccess: { Destination: arnOf("fn-done") } } }),
    );
    const event = (payload: unknown) =>
      lambda.send(new InvokeCommand({ FunctionName: "with-queues", InvocationType: "Event", Payload: new TextEncoder().encode(JSON.stringify(payload)) }));
    const ok = await event({ n: 1 });
    const failed = await event({ n: 2, fail: true });
    expect([ok.StatusCode, failed.StatusCode]).toEqual([202, 202]);

    const receiveOne = async (QueueUrl: string | undefined) => {
      for (let i = 0; i < 3; i++) {
        const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20, MessageAttributeNames: ["All"] }));
        if (out.Messages?.[0]) return out.Messages[0];
      }
      throw new Error(`nothing arrived on ${QueueUrl}`);
    };
    // The SDK has checked MD5OfBody (and of the attributes) of both.
    const record = JSON.parse((await receiveOne(done)).Body ?? "");
    expect(record).toMatchObject({
      version: "1.0",
      requestContext: { requestId: ok.$metadata.requestId, condition: "Success", approximateInvokeCount: 1 },
      requestPayload: { n: 1 },
      responsePayload: { n: 1 },
    });
    const dead = await receiveOne(dlq);
    expect(JSON.parse(dead.Body ?? "")).toEqual({ n: 2, fail: true });
    expect(dead.MessageAttributes).toEqual({
      RequestID: { DataType: "String", StringValue: failed.$metadata.requestId },
      ErrorCode: { DataType: "Number", StringValue: "200" },
      ErrorMessage: { DataType: "String", StringValue: "refused 2" },
    });

    // Another tenant cannot point its function at acme's queue.
    const stranger = lambdaClient(platform, other);
    const refused = stranger.send(
      new CreateFunctionCommand({
        FunctionName: "thief",
        Role: "arn:aws:iam::123456789012:role/r",
        Runtime: "nodejs22.x",
        Handler: "index.handler",
        Code: { ZipFile: zipSync({ "index.js": strToU8(code) }) },
        DeadLetterConfig: { TargetArn: arnOf("fn-dlq") },
      }),
    );
    await expect(refused).rejects.toBeInstanceOf(InvalidParameterValueException);
    await expect(refused).rejects.toThrow("The provided execution role does not have permissions to call SendMessage on SQS");
  });

  it("a queue and its messages survive a restart of wrangler dev", async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "durable" }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "still here" }));
    const vars = { ADMIN_TOKEN: platform.adminToken, KEY_DERIVATION_SECRET: platform.keyDerivationSecret };
    await platform.stop();
    platform = await startPlatform({ stateDir, vars });
    sqs = sqsClient(platform, acme);
    const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: "durable" }))).QueueUrl;
    expect(url).toBe(`${platform.url}/${acme.accountId}/durable`);
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    expect(out.Messages?.[0]?.Body).toBe("still here");
    const names = (await sqs.send(new ListQueuesCommand({}))).QueueUrls?.map((u) => u.split("/").pop());
    expect(names).toEqual(["durable", "fn-dlq", "fn-done", "ledger.fifo", "orders", "orders-dlq", "work"]);
  }, 180_000);
});
