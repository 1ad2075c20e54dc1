/**
 * SQS event source mappings end to end with the real @aws-sdk/client-lambda
 * and @aws-sdk/client-sqs against `wrangler dev`: the mapping API as the SDK
 * parses it (typed exceptions, epoch-seconds LastModified as a Date), and
 * delivery of a few hundred messages with ReportBatchItemFailures and 1 %
 * poison messages: every good message deleted after processing, every
 * poison message in the dead-letter queue with its receive count, none lost.
 */
import {
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  DeleteEventSourceMappingCommand,
  GetEventSourceMappingCommand,
  InvalidParameterValueException,
  ListEventSourceMappingsCommand,
  type LambdaClient,
  ResourceNotFoundException,
  UpdateEventSourceMappingCommand,
} from "@aws-sdk/client-lambda";
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenantWithKey, lambdaClient, type Platform, sqsClient, startPlatform, type TenantCredentials, untilActive } from "./harness";

const HANDLER = `exports.handler = async (event) => ({
  batchItemFailures: event.Records.filter((r) => r.body.startsWith("poison")).map((r) => ({ itemIdentifier: r.messageId })),
});`;
const TOTAL = 300;
const POISON_EVERY = 100;

let platform: Platform;
let acme: TenantCredentials;
let other: TenantCredentials;
let lambda: LambdaClient;
let sqs: SQSClient;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

beforeAll(async () => {
  platform = await startPlatform();
  acme = await createTenantWithKey(platform, "acme");
  other = await createTenantWithKey(platform, "other");
  lambda = lambdaClient(platform, acme);
  sqs = sqsClient(platform, acme);
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: "consumer",
      Role: "arn:aws:iam::123456789012:role/r",
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      Code: { ZipFile: zipSync({ "index.js": strToU8(HANDLER) }) },
    }),
  );
  await untilActive(lambda, "consumer");
});

afterAll(async () => {
  await platform?.stop();
});

async function depth(QueueUrl: string): Promise<Record<string, string>> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] }));
  return out.Attributes ?? {};
}

describe("SQS event source mappings with the real SDKs", () => {
  it("manages a mapping and refuses what AWS refuses", async () => {
    await sqs.send(new CreateQueueCommand({ QueueName: "api" }));
    const arn = `arn:aws:sqs:us-east-1:${acme.accountId}:api`;
    const created = await lambda.send(new CreateEventSourceMappingCommand({ FunctionName: "consumer", EventSourceArn: arn, Enabled: false, BatchSize: 5 }));
    expect(created.$metadata.httpStatusCode).toBe(202);
    expect(created.State).toBe("Creating");
    expect(created.LastModified).toBeInstanceOf(Date);
    expect(Math.abs((created.LastModified?.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
    const uuid = created.UUID ?? "";

    const got = await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
    expect(got).toMatchObject({ UUID: uuid, BatchSize: 5, EventSourceArn: arn, FunctionResponseTypes: [] });
    const updated = await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, BatchSize: 7 }));
    expect(updated.BatchSize).toBe(7);
    const listed = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: "consumer" }));
    expect(listed.EventSourceMappings?.map((m) => m.UUID)).toContain(uuid);

    const window = lambda.send(new CreateEventSourceMappingCommand({ FunctionName: "consumer", EventSourceArn: arn, BatchSize: 100 }));
    await expect(window).rejects.toBeInstanceOf(InvalidParameterValueException);
    await expect(window).rejects.toThrow("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10");

    const stranger = lambdaClient(platform, other);
    await expect(stranger.send(new GetEventSourceMappingCommand({ UUID: uuid }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(stranger.send(new DeleteEventSourceMappingCommand({ UUID: uuid }))).rejects.toBeInstanceOf(ResourceNotFoundException);

    const deleted = await lambda.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
    expect(deleted.State).toBe("Deleting");
    await expect(lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("processes every good message and dead-letters every poison one", { timeout: 120_000 }, async () => {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: "work-dlq" }));
    const work = await sqs.send(
      new CreateQueueCommand({
        QueueName: "work",
        Attributes: {
          VisibilityTimeout: "2",
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:us-east-1:${acme.accountId}:work-dlq`, maxReceiveCount: 2 }),
        },
      }),
    );
    const workUrl = work.QueueUrl ?? "";
    const dlqUrl = dlq.QueueUrl ?? "";
    const bodies = Array.from({ length: TOTAL }, (_, i) => (i % POISON_EVERY === 7 ? `poison-${i}` : `good-${i}`));
    for (let i = 0; i < TOTAL; i += 10) {
      const sent = await sqs.send(
        new SendMessageBatchCommand({ QueueUrl: workUrl, Entries: bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: String(j), MessageBody })) }),
      );
      expect(sent.Successful).toHaveLength(Math.min(10, TOTAL - i));
    }
    const mapping = await lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: "consumer",
        EventSourceArn: `arn:aws:sqs:us-east-1:${acme.accountId}:work`,
        BatchSize: 10,
        FunctionResponseTypes: ["ReportBatchItemFailures"],
      }),
    );

    const poison = bodies.filter((b) => b.startsWith("poison"));
    const deadline = Date.now() + 100_000;
    let source: Record<string, string> = {};
    let dead: Record<string, string> = {};
    for (;;) {
      [source, dead] = await Promise.all([depth(workUrl), depth(dlqUrl)]);
      const left = Number(source.ApproximateNumberOfMessages) + Number(source.ApproximateNumberOfMessagesNotVisible);
      if (left === 0 && Number(dead.ApproximateNumberOfMessages) === poison.length) break;
      if (Date.now() > deadline) throw new Error(`not drained: source ${JSON.stringify(source)} dlq ${JSON.stringify(dead)}`);
      await sleep(250);
    }
    const dlqMessages = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ["All"] }));
    expect(dlqMessages.Messages?.map((m) => m.Body).sort()).toEqual([...poison].sort());
    for (const m of dlqMessages.Messages ?? []) expect(Number(m.Attributes?.ApproximateReceiveCount)).toBeGreaterThanOrEqual(2);
    await lambda.send(new DeleteEventSourceMappingCommand({ UUID: mapping.UUID ?? "" }));
  });
});
