import { beforeAll, describe, expect, it } from "vitest";
import { md5Hex, md5OfMessageAttributes } from "../../src/sqs/md5";
import type { TenantKey } from "../helpers/platform";
import { newTenant } from "../helpers/platform";
import { arnOf, attributes, createQueue, receive, sleep, sqsError, sqsOk } from "../helpers/sqs";

/**
 * Message semantics through the Worker's fetch, inside workerd with the real
 * SqsQueue Durable Objects: visibility, long polling, redrive, FIFO order and
 * deduplication, batches, message move tasks.
 */
let key: TenantKey;
beforeAll(async () => {
  key = await newTenant("full", "sqs-msg");
});

const unique = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

describe("send and receive", () => {
  it("answers the MD5s SQS computes and returns the attributes asked for", async () => {
    const url = await createQueue(key, unique("md5"));
    const messageAttributes = {
      timestamp: { DataType: "Number", StringValue: "1493147359900" },
      "trace.id": { DataType: "String.uuid", StringValue: "abc" },
      blob: { DataType: "Binary", BinaryValue: btoa("\x00\x01\x02") },
    };
    const sent = await sqsOk<Record<string, string>>(key, "SendMessage", { QueueUrl: url, MessageBody: "derp", MessageAttributes: messageAttributes });
    expect(sent.MD5OfMessageBody).toBe("58fd9edd83341c29f1aebba81c31e257");
    expect(sent.MD5OfMessageAttributes).toBe(md5OfMessageAttributes(messageAttributes));
    expect(sent.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent.SequenceNumber).toBeUndefined();

    const [message] = await receive(key, url, { MessageAttributeNames: ["trace.*", "timestamp"], MessageSystemAttributeNames: ["All"] });
    expect(message?.Body).toBe("derp");
    expect(message?.MD5OfBody).toBe(md5Hex("derp"));
    expect(Object.keys(message?.MessageAttributes ?? {}).sort()).toEqual(["timestamp", "trace.id"]);
    expect(message?.MD5OfMessageAttributes).toBe(
      md5OfMessageAttributes({ timestamp: messageAttributes.timestamp, "trace.id": messageAttributes["trace.id"] }),
    );
    expect(message?.Attributes).toMatchObject({ ApproximateReceiveCount: "1", SenderId: key.accountId });
    expect(Number(message?.Attributes?.SentTimestamp)).toBeGreaterThan(Date.now() - 60_000);
    expect(Number(message?.Attributes?.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(Number(message?.Attributes?.SentTimestamp));
  });

  it("hides a received message for the visibility timeout, then delivers it again with a new handle", async () => {
    const url = await createQueue(key, unique("vis"), { VisibilityTimeout: "1" });
    await sqsOk(key, "SendMessage", { QueueUrl: url, MessageBody: "once" });
    const [first] = await receive(key, url);
    expect(first?.Body).toBe("once");
    expect(await receive(key, url)).toEqual([]);
    expect(await attributes(key, url, ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])).toEqual({
      ApproximateNumberOfMessages: "0",
      ApproximateNumberOfMessagesNotVisible: "1",
    });
    await sleep(1100);
    const [second] = await receive(key, url, { AttributeNames: ["ApproximateReceiveCount"] });
    expect(second?.MessageId).toBe(first?.MessageId);
    expect(second?.ReceiptHandle).not.toBe(first?.ReceiptHandle);
    expect(second?.Attributes?.ApproximateReceiveCount).toBe("2");
    // A standard queue still deletes with an older handle, as AWS does.
    await sqsOk(key, "DeleteMessage", { QueueUrl: url, ReceiptHandle: first?.ReceiptHandle });
    await sqsOk(key, "DeleteMessage", { QueueUrl: url, ReceiptHandle: first?.ReceiptHandle });
    await sleep(1100);
    expect(await receive(key, url)).toEqual([]);
  });

  it("ChangeMessageVisibility releases or extends a message in flight", async () => {
    const url = await createQueue(key, unique("chvis"), { VisibilityTimeout: "30" });
    await sqsOk(key, "SendMessage", { QueueUrl: url, MessageBody: "x" });
    const [m] = await receive(key, url);
    await sqsOk(key, "ChangeMessageVisibility", { QueueUrl: url, ReceiptHandle: m?.ReceiptHandle, VisibilityTimeout: 0 });
    const [again] = await receive(key, url);
    expect(again?.MessageId).toBe(m?.MessageId);
    // The first handle is stale now.
    const stale = await sqsError(key, "ChangeMessageVisibility", { QueueUrl: url, ReceiptHandle: m?.ReceiptHandle, VisibilityTimeout: 10 });
    expect(stale.type).toBe("com.amazonaws.sqs#InvalidParameterValue");
    const bad = await sqsError(key, "ChangeMessageVisibility", { QueueUrl: url, ReceiptHandle: again?.ReceiptHandle, VisibilityTimeout: 43201 });
    expect(bad).toMatchObject({ status: 400, type: "com.amazonaws.sqs#InvalidParameterValue", queryError: "InvalidParameterValue;Sender" });
  });

  it("delays messages by DelaySeconds and counts them as delayed", async () => {
    const url = await createQueue(key, unique("delay"));
    await sqsOk(key, "SendMessage", { QueueUrl: url, MessageBody: "later", DelaySeconds: 1 });
    expect((await attributes(key, url)).ApproximateNumberOfMessagesDelayed).toBe("1");
    expect(await receive(key, url)).toEqual([]);
    const started = Date.now();
    const [m] = await receive(key, url, { WaitTimeSeconds: 5 });
    expect(m?.Body).toBe("later");
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it("a long poll answers as soon as a message is sent", async () => {
    const url = await createQueue(key, unique("poll"));
    const started = Date.now();
    const polling = receive(key, url, { WaitTimeSeconds: 20 });
    await sleep(300);
    await sqsOk(key, "SendMessage", { QueueUrl: url, MessageBody: "wake" });
    const [m] = await polling;
    expect(m?.Body).toBe("wake");
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("a long poll with nothing to receive ends after WaitTimeSeconds with no messages", async () => {
    const url = await createQueue(key, unique("empty"));
    const started = Date.now();
    expect(await receive(key, url, { WaitTimeSeconds: 1 })).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it("receives up to MaxNumberOfMessages", async () => {
    const url = await createQueue(key, unique("max"));
    const Entries = Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `body ${i}` }));
    const out = await sqsOk<{ Successful: unknown[]; Failed: unknown[] }>(key, "SendMessageBatch", { QueueUrl: url, Entries });
    expect(out.Successful).toHaveLength(10);
    expect(out.Failed).toEqual([]);
    expect(await receive(key, url, { MaxNumberOfMessages: 4 })).toHaveLength(4);
    expect(await receive(key, url, { MaxNumberOfMessages: 10 })).toHaveLength(6);
  });
});

describe("batches", () => {
  it("refuses empty, too large and repeated-id batches with SQS's errors, storing nothing", async () => {
    const url = await createQueue(key, unique("batch"));
    expect(await sqsError(key, "SendMessageBatch", { QueueUrl: url, Entries: [] })).toEqual({
      status: 400,
      type: "com.amazonaws.sqs#EmptyBatchRequest",
      message: "There should be at least one SendMessageBatchRequestEntry in the request.",
      queryError: "AWS.SimpleQueueService.EmptyBatchRequest;Sender",
    });
    const eleven = Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: "x" }));
    expect(await sqsError(key, "SendMessageBatch", { QueueUrl: url, Entries: eleven })).toMatchObject({
      type: "com.amazonaws.sqs#TooManyEntriesInBatchRequest",
      message: "Maximum number of entries per request are 10. You have sent 11.",
      queryError: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest;Sender",
    });
    const repeated = [{ Id: "a", MessageBody: "x" }, { Id: "a", MessageBody: "y" }];
    expect(await sqsError(key, "SendMessageBatch", { QueueUrl: url, Entries: repeated })).toMatchObject({
      type: "com.amazonaws.sqs#BatchEntryIdsNotDistinct",
      message: "Id a repeated.",
    });
    expect(await sqsError(key, "SendMessageBatch", { QueueUrl: url, Entries: [{ Id: "bad id!", MessageBody: "x" }] })).toMatchObject({
      type: "com.amazonaws.sqs#InvalidBatchEntryId",
    });
    expect(await sqsError(key, "DeleteMessageBatch", { QueueUrl: url, Entries: [] })).toMatchObject({
      message: "There should be at least one DeleteMessageBatchRequestEntry in the request.",
    });
    expect((await attributes(key, url)).ApproximateNumberOfMessages).toBe("0");
  });

  it("reports bad entries in Failed and sends the rest", async () => {
    const url = await createQueue(key, unique("partial"), { MaximumMessageSize: "1024" });
    const out = await sqsOk<{ Successful: Array<{ Id: string }>; Failed: Array<{ Id: string; Code: string; SenderFault: boolean }> }>(
      key,
      "SendMessageBatch",
      {
        QueueUrl: url,
        Entries: [
          { Id: "good", MessageBody: "fine" },
          { Id: "control", MessageBody: "bad \u0001 char" },
          { Id: "big", MessageBody: "x".repeat(1025) },
        ],
      },
    );
    expect(out.Successful.map((s) => s.Id)).toEqual(["good"]);
    expect(out.Failed.map((f) => [f.Id, f.Code, f.SenderFault])).toEqual([
      ["control", "InvalidMessageContents", true],
      ["big", "InvalidParameterValue", true],
    ]);
    expect((await attributes(key, url)).ApproximateNumberOfMessages).toBe("1");
  });

  it("deletes and changes visibility in batches, failing only the bad handles", async () => {
    const url = await createQueue(key, unique("delbatch"));
    await sqsOk(key, "SendMessageBatch", { QueueUrl: url, Entries: [{ Id: "a", MessageBody: "1" }, { Id: "b", MessageBody: "2" }] });
    const messages = await receive(key, url, { MaxNumberOfMessages: 10 });
    expect(messages).toHaveLength(2);
    const vis = await sqsOk<{ Successful: Array<{ Id: string }>; Failed: Array<{ Id: string; Code: string }> }>(key, "ChangeMessageVisibilityBatch", {
      QueueUrl: url,
      Entries: [
        { Id: "x", ReceiptHandle: messages[0]?.ReceiptHandle, VisibilityTimeout: 60 },
        { Id: "y", ReceiptHandle: "garbage", VisibilityTimeout: 60 },
      ],
    });
    expect(vis.Successful).toEqual([{ Id: "x" }]);
    expect(vis.Failed).toMatchObject([{ Id: "y", Code: "ReceiptHandleIsInvalid" }]);
    const del = await sqsOk<{ Successful: Array<{ Id: string }>; Failed: Array<{ Id: string; Code: string }> }>(key, "DeleteMessageBatch", {
      QueueUrl: url,
      Entries: messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })).concat([{ Id: "junk", ReceiptHandle: "junk" }]),
    });
    expect(del.Successful.map((s) => s.Id)).toEqual(["d0", "d1"]);
    expect(del.Failed).toMatchObject([{ Id: "junk", Code: "ReceiptHandleIsInvalid" }]);
    const after = await attributes(key, url);
    expect([after.ApproximateNumberOfMessages, after.ApproximateNumberOfMessagesNotVisible]).toEqual(["0", "0"]);
  });
});

describe("redrive", () => {
  it("moves a message to the dead-letter queue after maxReceiveCount receives, with its receive count", async () => {
    const dlqName = unique("dlq");
    const dlqUrl = await createQueue(key, dlqName);
    const url = await createQueue(key, unique("src"), {
      VisibilityTimeout: "0",
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOf(key, dlqName), maxReceiveCount: 2 }),
    });
    await sqsOk(key, "SendMessage", { QueueUrl: url, MessageBody: "poison" });
    expect(await receive(key, url)).toHaveLength(1);
    expect(await receive(key, url)).toHaveLength(1);
    expect(await receive(key, url)).toEqual([]);
    const [dead] = await receive(key, dlqUrl, { MessageSystemAttributeNames: ["ApproximateReceiveCount", "DeadLetterQueueSourceArn"] });
    expect(dead?.Body).toBe("poison");
    expect(dead?.Attributes?.ApproximateReceiveCount).toBe("3");
    expect(dead?.Attributes?.DeadLetterQueueSourceArn).toMatch(/:src-/);
    const sources = await sqsOk<{ queueUrls: string[] }>(key, "ListDeadLetterSourceQueues", { QueueUrl: dlqUrl });
    expect(sources.queueUrls).toEqual([url]);
  });

  it("moves messages back from the dead-letter queue with a message move task", async () => {
    const dlqName = unique("dlq");
    const dlqUrl = await createQueue(key, dlqName);
    const srcName = unique("src");
    const url = await createQueue(key, srcName, {
      VisibilityTimeout: "0",
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOf(key, dlqName), maxReceiveCount: 1 }),
    });
    await sqsOk(key, "SendMessageBatch", { QueueUrl: url, Entries: [{ Id: "a", MessageBody: "1" }, { Id: "b", MessageBody: "2" }] });
    await receive(key, url, { MaxNumberOfMessages: 10 });
    expect(await receive(key, url, { MaxNumberOfMessages: 10 })).toEqual([]);
    expect((await attributes(key, dlqUrl)).ApproximateNumberOfMessages).toBe("2");

    const task = await sqsOk<{ TaskHandle: string }>(key, "StartMessageMoveTask", { SourceArn: arnOf(key, dlqName) });
    expect(task.TaskHandle).toBeTruthy();
    let status = "";
    for (let i = 0; i < 40 && status !== "COMPLETED"; i++) {
      await sleep(250);
      const list = await sqsOk<{ Results: Array<{ Status: string; ApproximateNumberOfMessagesMoved: number }> }>(key, "ListMessageMoveTasks", {
        SourceArn: arnOf(key, dlqName),
      });
      status = list.Results[0]?.Status ?? "";
    }
    expect(status).toBe("COMPLETED");
    expect((await attributes(key, url)).ApproximateNumberOfMessages).toBe("2");
    expect((await attributes(key, dlqUrl)).ApproximateNumberOfMessages).toBe("0");
    expect(await sqsError(key, "StartMessageMoveTask", { SourceArn: arnOf(key, srcName) })).toMatchObject({
      type: "com.amazonaws.sqs#InvalidParameterValue",
      message: "Source queue must be configured as a Dead Letter Queue.",
    });
  });

  it("refuses a RedrivePolicy whose dead-letter queue does not exist", async () => {
    const error = await sqsError(key, "CreateQueue", {
      QueueName: unique("nodlq"),
      Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOf(key, "no-such-dlq"), maxReceiveCount: 3 }) },
    });
    expect(error.type).toBe("com.amazonaws.sqs#InvalidParameterValue");
    expect(error.message).toContain("Dead letter target does not exist.");
  });
});

describe("FIFO queues", () => {
  it("delivers a group in order, never two batches of a group at once, other groups meanwhile", async () => {
    const url = await createQueue(key, `${unique("order")}.fifo`, { FifoQueue: "true", VisibilityTimeout: "30" });
    for (const [group, body] of [["g1", "a1"], ["g1", "a2"], ["g2", "b1"], ["g1", "a3"], ["g2", "b2"]]) {
      const sent = await sqsOk<{ SequenceNumber: string }>(key, "SendMessage", { QueueUrl: url, MessageBody: body, MessageGroupId: group, MessageDeduplicationId: body });
      expect(sent.SequenceNumber).toMatch(/^\d{20}$/);
    }
    const first = await receive(key, url, { MaxNumberOfMessages: 2, MessageSystemAttributeNames: ["MessageGroupId", "SequenceNumber"] });
    expect(first.map((m) => m.Body)).toEqual(["a1", "a2"]);
    // g1 is in flight: only g2 may come out now.
    const second = await receive(key, url, { MaxNumberOfMessages: 10 });
    expect(second.map((m) => m.Body)).toEqual(["b1", "b2"]);
    expect(await receive(key, url, { MaxNumberOfMessages: 10 })).toEqual([]);
    for (const m of first) await sqsOk(key, "DeleteMessage", { QueueUrl: url, ReceiptHandle: m.ReceiptHandle });
    expect((await receive(key, url, { MaxNumberOfMessages: 10 })).map((m) => m.Body)).toEqual(["a3"]);
  });

  it("deduplicates within five minutes by id or by content", async () => {
    const url = await createQueue(key, `${unique("dedup")}.fifo`, { FifoQueue: "true", ContentBasedDeduplication: "true" });
    const a = await sqsOk<{ MessageId: string }>(key, "SendMessage", { QueueUrl: url, MessageBody: "same", MessageGroupId: "g" });
    const b = await sqsOk<{ MessageId: string }>(key, "SendMessage", { QueueUrl: url, MessageBody: "same", MessageGroupId: "g" });
    expect(b.MessageId).toBe(a.MessageId);
    await sqsOk(key, "SendMessage", { QueueUrl: url, MessageBody: "same", MessageGroupId: "g", MessageDeduplicationId: "other" });
    expect((await attributes(key, url)).ApproximateNumberOfMessages).toBe("2");
    const [m] = await receive(key, url, { MessageSystemAttributeNames: ["MessageDeduplicationId"] });
    expect(m?.Attributes?.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses sends without MessageGroupId or a dedup id, and per-message delays", async () => {
    const url = await createQueue(key, `${unique("fifobad")}.fifo`, { FifoQueue: "true" });
    expect(await sqsError(key, "SendMessage", { QueueUrl: url, MessageBody: "x" })).toMatchObject({
      type: "com.amazonaws.sqs#MissingParameter",
      message: "The request must contain the parameter MessageGroupId.",
    });
    expect((await sqsError(key, "SendMessage", { QueueUrl: url, MessageBody: "x", MessageGroupId: "g" })).message).toBe(
      "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
    );
    expect(
      (await sqsError(key, "SendMessage", { QueueUrl: url, MessageBody: "x", MessageGroupId: "g", MessageDeduplicationId: "d", DelaySeconds: 3 })).type,
    ).toBe("com.amazonaws.sqs#InvalidParameterValue");
    expect((await attributes(key, url)).ApproximateNumberOfMessages).toBe("0");
  });
});
