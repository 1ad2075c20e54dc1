import { env, exports } from "cloudflare:workers";
import { SqsError } from "../../src/sqs/errors";
import { TenantQueues } from "../../src/sqs/queues";
import { beforeAll, describe, expect, it } from "vitest";
import type { TenantKey } from "../helpers/platform";
import { BASE, newTenant } from "../helpers/platform";
import type { SqsErrorAnswer } from "../helpers/sqs";
import { arnOf, attributes, createQueue, receive, sqsCall, sqsError, sqsOk } from "../helpers/sqs";

/**
 * The queue control plane (create, URLs, listing, attributes, tags, purge,
 * delete), SQS's exact errors for bad input with nothing stored, and tenant
 * isolation: whatever tenant A sends naming tenant B's queue (by name, URL
 * or ARN), A gets exactly what it gets for a queue that exists nowhere.
 */
let a: TenantKey;
let b: TenantKey;
beforeAll(async () => {
  a = await newTenant("full", "sqs-a");
  b = await newTenant("full", "sqs-b");
});

const unique = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

describe("queues", () => {
  it("creates a queue with AWS's defaults, idempotently, and refuses a different repeat", async () => {
    const name = unique("create");
    const url = await createQueue(a, name, { VisibilityTimeout: "45" });
    expect(url).toBe(`${BASE}/${a.accountId}/${name}`);
    expect(await createQueue(a, name, { VisibilityTimeout: "45" })).toBe(url);
    expect(await sqsError(a, "CreateQueue", { QueueName: name, Attributes: { VisibilityTimeout: "46" } })).toEqual({
      status: 400,
      type: "com.amazonaws.sqs#QueueNameExists",
      message: "A queue already exists with the same name and a different value for attribute VisibilityTimeout",
      queryError: "QueueAlreadyExists;Sender",
    });
    const attrs = await attributes(a, url);
    expect(attrs).toMatchObject({
      VisibilityTimeout: "45",
      MessageRetentionPeriod: "345600",
      DelaySeconds: "0",
      ReceiveMessageWaitTimeSeconds: "0",
      MaximumMessageSize: "1048576",
      QueueArn: arnOf(a, name),
      ApproximateNumberOfMessages: "0",
      ApproximateNumberOfMessagesNotVisible: "0",
      ApproximateNumberOfMessagesDelayed: "0",
    });
    expect(Number(attrs.CreatedTimestamp)).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(attrs.FifoQueue).toBeUndefined();
    expect(await attributes(a, url, ["QueueArn"])).toEqual({ QueueArn: arnOf(a, name) });
    expect(await sqsOk(a, "GetQueueAttributes", { QueueUrl: url })).toEqual({});
  });

  it("a queue URL on another host names the same queue", async () => {
    const name = unique("host");
    await createQueue(a, name);
    const elsewhere = `https://sqs.us-east-1.amazonaws.com/${a.accountId}/${name}`;
    await sqsOk(a, "SendMessage", { QueueUrl: elsewhere, MessageBody: "hi" });
    expect((await attributes(a, `${BASE}/${a.accountId}/${name}`)).ApproximateNumberOfMessages).toBe("1");
  });

  it("GetQueueUrl, ListQueues with prefix and pages, DeleteQueue", async () => {
    const prefix = unique("list");
    const names = [`${prefix}-1`, `${prefix}-2`, `${prefix}-3`];
    for (const n of names) await createQueue(a, n);
    expect(await sqsOk(a, "GetQueueUrl", { QueueName: names[0] })).toEqual({ QueueUrl: `${BASE}/${a.accountId}/${names[0]}` });
    const all = await sqsOk<{ QueueUrls: string[] }>(a, "ListQueues", { QueueNamePrefix: prefix });
    expect(all.QueueUrls).toEqual(names.map((n) => `${BASE}/${a.accountId}/${n}`));
    const page1 = await sqsOk<{ QueueUrls: string[]; NextToken?: string }>(a, "ListQueues", { QueueNamePrefix: prefix, MaxResults: 2 });
    expect(page1.QueueUrls).toHaveLength(2);
    const page2 = await sqsOk<{ QueueUrls: string[]; NextToken?: string }>(a, "ListQueues", { QueueNamePrefix: prefix, MaxResults: 2, NextToken: page1.NextToken });
    expect(page2.QueueUrls).toEqual([`${BASE}/${a.accountId}/${names[2]}`]);
    expect(page2.NextToken).toBeUndefined();
    await sqsOk(a, "DeleteQueue", { QueueUrl: all.QueueUrls[1] });
    expect((await sqsOk<{ QueueUrls: string[] }>(a, "ListQueues", { QueueNamePrefix: prefix })).QueueUrls).toHaveLength(2);
    expect((await sqsError(a, "GetQueueUrl", { QueueName: names[1] })).type).toBe("com.amazonaws.sqs#QueueDoesNotExist");
  });

  it("SetQueueAttributes, tags, purge", async () => {
    const url = await createQueue(a, unique("set"));
    await sqsOk(a, "SetQueueAttributes", { QueueUrl: url, Attributes: { DelaySeconds: "5", ReceiveMessageWaitTimeSeconds: "2" } });
    expect(await attributes(a, url, ["DelaySeconds", "ReceiveMessageWaitTimeSeconds"])).toEqual({ DelaySeconds: "5", ReceiveMessageWaitTimeSeconds: "2" });
    await sqsOk(a, "TagQueue", { QueueUrl: url, Tags: { team: "x", env: "dev" } });
    await sqsOk(a, "UntagQueue", { QueueUrl: url, TagKeys: ["env"] });
    expect(await sqsOk(a, "ListQueueTags", { QueueUrl: url })).toEqual({ Tags: { team: "x" } });
    await sqsOk(a, "SetQueueAttributes", { QueueUrl: url, Attributes: { DelaySeconds: "0" } });
    await sqsOk(a, "SendMessage", { QueueUrl: url, MessageBody: "x" });
    await sqsOk(a, "PurgeQueue", { QueueUrl: url });
    expect((await attributes(a, url)).ApproximateNumberOfMessages).toBe("0");
    expect(await sqsError(a, "PurgeQueue", { QueueUrl: url })).toMatchObject({ type: "com.amazonaws.sqs#PurgeQueueInProgress" });
  });

  it("creates with tags", async () => {
    const name = unique("tagged");
    const res = await sqsOk<{ QueueUrl: string }>(a, "CreateQueue", { QueueName: name, tags: { owner: "me" } });
    expect(await sqsOk(a, "ListQueueTags", { QueueUrl: res.QueueUrl })).toEqual({ Tags: { owner: "me" } });
  });
});

describe("bad input gets SQS's errors and stores nothing", () => {
  it("CreateQueue: names and attributes", async () => {
    const cases: Array<[Record<string, unknown>, Partial<SqsErrorAnswer>]> = [
      [{ QueueName: "bad name" }, { type: "com.amazonaws.sqs#InvalidParameterValue", message: "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length" }],
      [{ QueueName: "a".repeat(81) }, { type: "com.amazonaws.sqs#InvalidParameterValue" }],
      [{ QueueName: "nofifo", Attributes: { FifoQueue: "true" } }, { type: "com.amazonaws.sqs#InvalidParameterValue" }],
      [{ QueueName: "vt", Attributes: { VisibilityTimeout: "-1" } }, { type: "com.amazonaws.sqs#InvalidAttributeValue", message: "Invalid value for the parameter VisibilityTimeout.", queryError: "InvalidAttributeValue;Sender" }],
      [{ QueueName: "ds", Attributes: { DelaySeconds: "901" } }, { type: "com.amazonaws.sqs#InvalidAttributeValue" }],
      [{ QueueName: "ws", Attributes: { ReceiveMessageWaitTimeSeconds: "21" } }, { type: "com.amazonaws.sqs#InvalidAttributeValue" }],
      [{ QueueName: "unk", Attributes: { Nope: "1" } }, { type: "com.amazonaws.sqs#InvalidAttributeName", message: "Unknown Attribute Nope." }],
      [{ Attributes: {} }, { type: "com.amazonaws.sqs#MissingParameter", message: "The request must contain the parameter QueueName." }],
    ];
    for (const [body, expected] of cases) expect(await sqsError(a, "CreateQueue", body), JSON.stringify(body)).toMatchObject({ status: 400, ...expected });
    expect(await sqsOk(a, "ListQueues", { QueueNamePrefix: "vt" })).toEqual({});
    expect(await sqsOk(a, "ListQueues", { QueueNamePrefix: "bad" })).toEqual({});
  });

  it("SendMessage: characters, size, attribute types; ReceiveMessage: ranges", async () => {
    const url = await createQueue(a, unique("badsend"), { MaximumMessageSize: "1024" });
    expect(await sqsError(a, "SendMessage", { QueueUrl: url, MessageBody: "nul \u0000" })).toEqual({
      status: 400,
      type: "com.amazonaws.sqs#InvalidMessageContents",
      message: "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
      queryError: "InvalidMessageContents;Sender",
    });
    expect(await sqsError(a, "SendMessage", { QueueUrl: url, MessageBody: "x".repeat(1025) })).toMatchObject({
      message: "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.",
    });
    // Attributes count against the size too.
    expect(
      (await sqsError(a, "SendMessage", { QueueUrl: url, MessageBody: "x".repeat(1000), MessageAttributes: { big: { DataType: "String", StringValue: "y".repeat(30) } } })).type,
    ).toBe("com.amazonaws.sqs#InvalidParameterValue");
    expect((await sqsError(a, "SendMessage", { QueueUrl: url, MessageBody: "x", MessageAttributes: { n: { DataType: "Number", StringValue: "nan" } } })).type).toBe(
      "com.amazonaws.sqs#InvalidParameterValue",
    );
    expect((await sqsError(a, "SendMessage", { QueueUrl: url, MessageBody: "x", DelaySeconds: 901 })).type).toBe("com.amazonaws.sqs#InvalidParameterValue");
    expect((await sqsError(a, "SendMessage", { QueueUrl: url, MessageBody: 5 })).type).toBe("com.amazonaws.sqs#SerializationException");
    expect(await sqsError(a, "ReceiveMessage", { QueueUrl: url, MaxNumberOfMessages: 11 })).toMatchObject({
      message: "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.",
    });
    expect(await sqsError(a, "ReceiveMessage", { QueueUrl: url, WaitTimeSeconds: 21 })).toMatchObject({
      message: "Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.",
    });
    expect((await attributes(a, url)).ApproximateNumberOfMessages).toBe("0");
  });

  it("receipt handles: garbage and another queue's handle are ReceiptHandleIsInvalid", async () => {
    const one = await createQueue(a, unique("rh1"));
    const two = await createQueue(a, unique("rh2"));
    await sqsOk(a, "SendMessage", { QueueUrl: one, MessageBody: "x" });
    const [m] = await receive(a, one);
    expect(await sqsError(a, "DeleteMessage", { QueueUrl: two, ReceiptHandle: m?.ReceiptHandle })).toEqual({
      status: 400,
      type: "com.amazonaws.sqs#ReceiptHandleIsInvalid",
      message: `The input receipt handle "${m?.ReceiptHandle}" is not a valid receipt handle.`,
      queryError: "ReceiptHandleIsInvalid;Sender",
    });
    expect((await sqsError(a, "DeleteMessage", { QueueUrl: one, ReceiptHandle: "garbage" })).type).toBe("com.amazonaws.sqs#ReceiptHandleIsInvalid");
    expect((await attributes(a, one)).ApproximateNumberOfMessagesNotVisible).toBe("1");
  });

  it("attribute names: unknown or read-only ones are InvalidAttributeName, nothing changed", async () => {
    const url = await createQueue(a, unique("attrnames"));
    expect(await sqsError(a, "GetQueueAttributes", { QueueUrl: url, AttributeNames: ["Nope"] })).toMatchObject({
      type: "com.amazonaws.sqs#InvalidAttributeName",
      message: "Unknown Attribute Nope.",
      queryError: "InvalidAttributeName;Sender",
    });
    const setBoth = { QueueUrl: url, Attributes: { DelaySeconds: "5", QueueArn: "x" } };
    expect((await sqsError(a, "SetQueueAttributes", setBoth)).type).toBe("com.amazonaws.sqs#InvalidAttributeName");
    expect((await attributes(a, url, ["DelaySeconds"])).DelaySeconds).toBe("0");
  });

  it("unknown operations and unsigned requests", async () => {
    expect((await sqsError(a, "FlyToTheMoon", {})).type).toBe("com.amazonaws.sqs#UnknownOperationException");
    const res = await exports.default.fetch(`${BASE}/`, {
      method: "POST",
      headers: { "x-amz-target": "AmazonSQS.ListQueues", "content-type": "application/x-amz-json-1.0" },
      body: "{}",
    });
    expect(res.status).toBe(403);
    expect((await sqsCall(a, "ListQueues", {})).status).toBe(200);
  });
});

describe("tenant isolation", () => {
  const SHARED = "shared-queue";
  const ABSENT = "absent-queue";
  let bUrl: string;
  let bHandle: string;

  beforeAll(async () => {
    bUrl = await createQueue(b, SHARED);
    const dlq = await createQueue(b, `${SHARED}-dlq`);
    await sqsOk(b, "SetQueueAttributes", {
      QueueUrl: bUrl,
      Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOf(b, `${SHARED}-dlq`), maxReceiveCount: 5 }) },
    });
    await sqsOk(b, "SendMessage", { QueueUrl: bUrl, MessageBody: "b's secret" });
    await sqsOk(b, "SendMessage", { QueueUrl: dlq, MessageBody: "b's dead letter" });
    const [m] = await receive(b, bUrl, { VisibilityTimeout: 600 });
    bHandle = m?.ReceiptHandle ?? "";
  });

  /** Every operation naming a queue, built for a queue URL. */
  const byUrl = (url: string, handle: string): Array<[string, Record<string, unknown>]> => [
    ["GetQueueAttributes", { QueueUrl: url, AttributeNames: ["All"] }],
    ["SetQueueAttributes", { QueueUrl: url, Attributes: { VisibilityTimeout: "1" } }],
    ["TagQueue", { QueueUrl: url, Tags: { x: "y" } }],
    ["UntagQueue", { QueueUrl: url, TagKeys: ["x"] }],
    ["ListQueueTags", { QueueUrl: url }],
    ["PurgeQueue", { QueueUrl: url }],
    ["SendMessage", { QueueUrl: url, MessageBody: "from a" }],
    ["SendMessageBatch", { QueueUrl: url, Entries: [{ Id: "1", MessageBody: "from a" }] }],
    ["ReceiveMessage", { QueueUrl: url }],
    ["DeleteMessage", { QueueUrl: url, ReceiptHandle: handle }],
    ["DeleteMessageBatch", { QueueUrl: url, Entries: [{ Id: "1", ReceiptHandle: handle }] }],
    ["ChangeMessageVisibility", { QueueUrl: url, ReceiptHandle: handle, VisibilityTimeout: 0 }],
    ["ChangeMessageVisibilityBatch", { QueueUrl: url, Entries: [{ Id: "1", ReceiptHandle: handle, VisibilityTimeout: 0 }] }],
    ["ListDeadLetterSourceQueues", { QueueUrl: url }],
    ["DeleteQueue", { QueueUrl: url }],
  ];

  it("by B's URL, A gets exactly what a missing queue gets, on every operation", async () => {
    const theirs = byUrl(bUrl, bHandle);
    const missing = byUrl(`${BASE}/${a.accountId}/${ABSENT}`, bHandle);
    for (let i = 0; i < theirs.length; i++) {
      const [operation, body] = theirs[i] as [string, Record<string, unknown>];
      const got = await sqsError(a, operation, body);
      expect(got, operation).toEqual(await sqsError(a, operation, (missing[i] as [string, Record<string, unknown>])[1]));
      expect(got.type, operation).toBe("com.amazonaws.sqs#QueueDoesNotExist");
      expect(got.queryError).toBe("AWS.SimpleQueueService.NonExistentQueue;Sender");
    }
  });

  it("B's URL rewritten to A's account names A's (missing) queue, never B's", async () => {
    const got = await sqsError(a, "ReceiveMessage", { QueueUrl: `${BASE}/${a.accountId}/${SHARED}` });
    expect(got.type).toBe("com.amazonaws.sqs#QueueDoesNotExist");
  });

  it("by name: GetQueueUrl, ListQueues and CreateQueue never show B's queue", async () => {
    expect(await sqsError(a, "GetQueueUrl", { QueueName: SHARED })).toEqual(await sqsError(a, "GetQueueUrl", { QueueName: ABSENT }));
    expect(await sqsError(a, "GetQueueUrl", { QueueName: SHARED, QueueOwnerAWSAccountId: b.accountId })).toEqual(
      await sqsError(a, "GetQueueUrl", { QueueName: ABSENT, QueueOwnerAWSAccountId: b.accountId }),
    );
    expect(await sqsOk(a, "ListQueues", { QueueNamePrefix: SHARED })).toEqual({});
    // A may own a queue of the same name: a different queue.
    const mine = await createQueue(a, SHARED, { VisibilityTimeout: "7" });
    expect(await receive(a, mine)).toEqual([]);
    expect((await attributes(a, mine)).QueueArn).toBe(arnOf(a, SHARED));
    await sqsOk(a, "DeleteQueue", { QueueUrl: mine });
  });

  it("by ARN: redrive targets and move tasks see B's queues as missing", async () => {
    const redrive = (arn: string) =>
      sqsError(a, "CreateQueue", { QueueName: unique("src"), Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 1 }) } });
    const theirs = await redrive(arnOf(b, `${SHARED}-dlq`));
    const absent = await redrive(arnOf(a, ABSENT));
    expect(theirs.type).toBe(absent.type);
    expect(theirs.message.replace(/arn:[^"]+/, "ARN")).toBe(absent.message.replace(/arn:[^"]+/, "ARN"));
    for (const op of ["StartMessageMoveTask", "ListMessageMoveTasks"]) {
      const got = await sqsError(a, op, { SourceArn: arnOf(b, `${SHARED}-dlq`) });
      expect(got, op).toEqual(await sqsError(a, op, { SourceArn: arnOf(a, ABSENT) }));
      expect(got.type).toBe("com.amazonaws.sqs#ResourceNotFoundException");
    }
    const task = await sqsOk<{ TaskHandle: string }>(b, "StartMessageMoveTask", { SourceArn: arnOf(b, `${SHARED}-dlq`), MaxNumberOfMessagesPerSecond: 1 });
    expect(await sqsError(a, "CancelMessageMoveTask", { TaskHandle: task.TaskHandle })).toEqual(
      await sqsError(a, "CancelMessageMoveTask", { TaskHandle: "bm90IGEgaGFuZGxl" }),
    );
  });

  it("B's queue and message are untouched by everything A tried", async () => {
    const attrs = await attributes(b, bUrl);
    expect(attrs.VisibilityTimeout).toBe("30");
    expect(attrs.ApproximateNumberOfMessagesNotVisible).toBe("1");
    expect(await sqsOk(b, "ListQueueTags", { QueueUrl: bUrl })).toEqual({});
    await sqsOk(b, "ChangeMessageVisibility", { QueueUrl: bUrl, ReceiptHandle: bHandle, VisibilityTimeout: 0 });
    expect((await receive(b, bUrl)).map((m) => m.Body)).toEqual(["b's secret"]);
  });
});

describe("TenantQueues, the interface Worker code (event source mappings) uses", () => {
  it("sends, receives a batch, changes visibility and deletes by tenant and queue name", async () => {
    const name = unique("internal");
    const url = await createQueue(a, name, { VisibilityTimeout: "60" });
    const queues = new TenantQueues(env, a.tenantId);
    const entry = { body: "from worker code", attributes: {}, attributeBytes: 0, systemAttributes: {}, senderId: a.accountId };
    const sent = await queues.send(name, [{ id: "1", ...entry }, { id: "2", ...entry }], true);
    expect(sent.successful.map((m) => m.id)).toEqual(["1", "2"]);
    const batch = await queues.receive(name, { maxMessages: 10, waitSeconds: 0, systemAttributeNames: ["All"], messageAttributeNames: ["All"] });
    expect(batch.map((m) => m.Body)).toEqual(["from worker code", "from worker code"]);
    const [first, second] = batch;
    await queues.changeVisibility(name, [{ id: "v", receiptHandle: first?.ReceiptHandle ?? "", visibilityTimeout: 0 }], false);
    await queues.deleteMessages(name, [{ id: "d", receiptHandle: second?.ReceiptHandle ?? "" }], false);
    const after = await attributes(a, url);
    expect([after.ApproximateNumberOfMessages, after.ApproximateNumberOfMessagesNotVisible]).toEqual(["1", "0"]);
    // Another tenant's queues are not reachable through its own TenantQueues.
    const error = await new TenantQueues(env, b.tenantId).receive(name, { maxMessages: 1, waitSeconds: 0, systemAttributeNames: [], messageAttributeNames: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SqsError);
    expect((error as SqsError).type).toBe("QueueDoesNotExist");
  });
});
