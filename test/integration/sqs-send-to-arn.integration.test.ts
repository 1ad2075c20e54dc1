import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { md5Hex } from "../../src/sqs/md5";
import { QueueSendRefused, sendMessageToQueueArn, sendToQueueArn } from "../../src/sqs/send-to-arn";
import type { TenantKey } from "../helpers/platform";
import { newTenant } from "../helpers/platform";
import { arnOf, attributes, createQueue, receive } from "../helpers/sqs";

/**
 * Platform-side sends to a tenant's queue by ARN (destinations, dead-letter
 * queues, stream on-failure destinations), through the real SqsQueue objects.
 */
let a: TenantKey;
let b: TenantKey;
beforeAll(async () => {
  a = await newTenant("full", "sqs-arn-a");
  b = await newTenant("full", "sqs-arn-b");
});

const unique = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

async function refusal(send: Promise<unknown>): Promise<string> {
  const error = await send.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(QueueSendRefused);
  return (error as Error).message;
}

describe("sendMessageToQueueArn", () => {
  it("sends one message to the tenant's own queue, as SendMessage would store it", async () => {
    const name = unique("dest");
    const url = await createQueue(a, name);
    await sendMessageToQueueArn(env, a.tenantId, arnOf(a, name), '{"hello":"queue"}');
    const [message] = await receive(a, url, { MessageSystemAttributeNames: ["All"] });
    expect(message?.Body).toBe('{"hello":"queue"}');
    expect(message?.MD5OfBody).toBe(md5Hex('{"hello":"queue"}'));
    expect(message?.Attributes?.SenderId).toBe(a.accountId);
  });

  it("carries message attributes with the MD5 SQS computes", async () => {
    const name = unique("dlq");
    const url = await createQueue(a, name);
    const sent = await sendToQueueArn(env, a.tenantId, arnOf(a, name), "{}", {
      RequestID: { DataType: "String", StringValue: "r-1" },
      ErrorCode: { DataType: "Number", StringValue: "200" },
    });
    const [message] = await receive(a, url, { MessageAttributeNames: ["All"] });
    expect(message?.MessageAttributes).toEqual({
      RequestID: { DataType: "String", StringValue: "r-1" },
      ErrorCode: { DataType: "Number", StringValue: "200" },
    });
    expect(message?.MD5OfMessageAttributes).toBe(sent.md5OfAttributes);
  });

  it("refuses another account's queue without touching it", async () => {
    const name = unique("theirs");
    const url = await createQueue(b, name);
    const message = await refusal(sendMessageToQueueArn(env, a.tenantId, arnOf(b, name), "x"));
    expect(message).toBe(`Queue ${arnOf(b, name)} belongs to another account: cellfn delivers only to the account's own queues.`);
    expect((await attributes(b, url, ["ApproximateNumberOfMessages"])).ApproximateNumberOfMessages).toBe("0");
  });

  it("refuses a queue that does not exist, a malformed ARN, another region and a FIFO queue", async () => {
    const missing = arnOf(a, unique("missing"));
    expect(await refusal(sendMessageToQueueArn(env, a.tenantId, missing, "x"))).toBe(`Queue ${missing} does not exist.`);
    expect(await refusal(sendMessageToQueueArn(env, a.tenantId, "arn:aws:sns:us-east-1:123456789012:topic", "x"))).toBe(
      "arn:aws:sns:us-east-1:123456789012:topic is not an Amazon SQS queue ARN.",
    );
    const name = unique("region");
    await createQueue(a, name);
    const elsewhere = `arn:aws:sqs:eu-west-1:${a.accountId}:${name}`;
    expect(await refusal(sendMessageToQueueArn(env, a.tenantId, elsewhere, "x"))).toBe(`Queue ${elsewhere} does not exist.`);

    const fifo = `${unique("order")}.fifo`;
    const fifoUrl = await createQueue(a, fifo, { FifoQueue: "true", ContentBasedDeduplication: "true" });
    expect(await refusal(sendMessageToQueueArn(env, a.tenantId, arnOf(a, fifo), "x"))).toBe(
      `Queue ${arnOf(a, fifo)} is a FIFO queue: Lambda delivers to standard SQS queues only.`,
    );
    expect((await attributes(a, fifoUrl, ["ApproximateNumberOfMessages"])).ApproximateNumberOfMessages).toBe("0");
  });

  it("refuses a body the queue refuses (over MaximumMessageSize), storing nothing", async () => {
    const name = unique("small");
    const url = await createQueue(a, name, { MaximumMessageSize: "1024" });
    const message = await refusal(sendMessageToQueueArn(env, a.tenantId, arnOf(a, name), "x".repeat(1025)));
    expect(message).toBe(`Queue ${arnOf(a, name)} refused the message: One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.`);
    expect((await attributes(a, url, ["ApproximateNumberOfMessages"])).ApproximateNumberOfMessages).toBe("0");
  });
});
