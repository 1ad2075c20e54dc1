import { describe, expect, it } from "vitest";
import type { TenantKey } from "../helpers/platform";
import { awsJson, createFunctionBody, signed, waitUntilSettled } from "../helpers/platform";
import { newTenant } from "../helpers/platform";
import { arnOf, attributes, createQueue, receive, sleep, sqsOk } from "../helpers/sqs";

// Delivery through SQS event source mappings, in workerd: messages sent to a
// real queue object are received by the mapping's poller object, run through
// the sync invoke path (a real Dynamic Worker) and settled on the queue. The
// handlers write what they got to their log group; the tests read it back
// through the CloudWatch Logs API.

const ESM = "/2015-03-31/event-source-mappings";

async function makeFunction(key: TenantKey, tag: string, code: string): Promise<string> {
  const name = `deliver-${tag}-${Date.now()}`;
  const res = await signed(key, "POST", "/2015-03-31/functions", createFunctionBody(name, { "index.js": code }));
  if (res.status !== 201) throw new Error(`CreateFunction: ${res.status} ${await res.text()}`);
  await waitUntilSettled(key, name);
  return name;
}

async function map(key: TenantKey, body: Record<string, unknown>): Promise<string> {
  const res = await signed(key, "POST", ESM, body);
  const text = await res.text();
  if (res.status !== 202) throw new Error(`CreateEventSourceMapping: ${res.status} ${text}`);
  return (JSON.parse(text) as { UUID: string }).UUID;
}

/** Log lines of the function carrying `marker `, the rest of each line after the marker. */
async function logged(key: TenantKey, name: string, marker: string): Promise<string[]> {
  const res = await awsJson(key, "logs", "Logs_20140328.FilterLogEvents", { logGroupName: `/aws/lambda/${name}` });
  if (res.status !== 200) return [];
  const lines = (res.body.events as { message: string }[]).map((e) => e.message);
  return lines.filter((l) => l.includes(`\t${marker} `)).map((l) => l.slice(l.indexOf(`\t${marker} `) + marker.length + 2));
}

async function until<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!done(value)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await sleep(100);
    value = await probe();
  }
  return value;
}

const depth = async (key: TenantKey, url: string) => {
  const a = await attributes(key, url);
  return Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible) + Number(a.ApproximateNumberOfMessagesDelayed);
};

describe("SQS event source mapping delivery", () => {
  it("delivers Lambda's SQS event and deletes the batch on success", async () => {
    const key = await newTenant();
    const name = await makeFunction(key, "shape", `exports.handler = async (event) => { console.log("EVENT " + JSON.stringify(event)); return null; };`);
    const queue = `shape-${Date.now()}`;
    const url = await createQueue(key, queue);
    const sent = await sqsOk<{ MessageId: string; MD5OfMessageBody: string }>(key, "SendMessage", {
      QueueUrl: url,
      MessageBody: '{"hello":"world"}',
      MessageAttributes: { color: { DataType: "String", StringValue: "blue" } },
    });
    const uuid = await map(key, { FunctionName: name, EventSourceArn: arnOf(key, queue) });

    const events = await until("the event in the log", () => logged(key, name, "EVENT"), (l) => l.length > 0);
    const event = JSON.parse(events[0] ?? "{}") as { Records: Record<string, unknown>[] };
    expect(event.Records).toHaveLength(1);
    const record = event.Records[0] as Record<string, unknown>;
    expect(record).toEqual({
      messageId: sent.MessageId,
      receiptHandle: expect.any(String),
      body: '{"hello":"world"}',
      attributes: expect.objectContaining({
        ApproximateReceiveCount: "1",
        SentTimestamp: expect.stringMatching(/^\d+$/),
        SenderId: expect.any(String),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/),
      }),
      messageAttributes: { color: { stringValue: "blue", stringListValues: [], binaryListValues: [], dataType: "String" } },
      md5OfBody: sent.MD5OfMessageBody,
      md5OfMessageAttributes: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventSource: "aws:sqs",
      eventSourceARN: arnOf(key, queue),
      awsRegion: "us-east-1",
    });
    await until("the queue to empty", () => depth(key, url), (n) => n === 0);
    const got = await until(
      "LastProcessingResult OK",
      async () => (await signed(key, "GET", `${ESM}/${uuid}`)).json<{ State: string; LastProcessingResult: string }>(),
      (m) => m.LastProcessingResult === "OK",
    );
    expect(got.State).toBe("Enabled");

    // An update while the loop runs settles back to Enabled and delivery goes on.
    expect((await signed(key, "PUT", `${ESM}/${uuid}`, { BatchSize: 5 })).status).toBe(202);
    await until("Enabled again", async () => (await signed(key, "GET", `${ESM}/${uuid}`)).json<{ State: string }>(), (m) => m.State === "Enabled");
    await sqsOk(key, "SendMessage", { QueueUrl: url, MessageBody: "after update" });
    const after = await until("the second event", () => logged(key, name, "EVENT"), (l) => l.length >= 2);
    expect(after.some((e) => e.includes('"body":"after update"'))).toBe(true);
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
  });

  it("retries only the reported failures, and the queue's redrive moves poison messages to its DLQ", async () => {
    const key = await newTenant();
    const name = await makeFunction(
      key,
      "partial",
      `exports.handler = async (event) => {
        const batchItemFailures = [];
        for (const r of event.Records) {
          if (r.body.startsWith("poison")) batchItemFailures.push({ itemIdentifier: r.messageId });
          else console.log("GOOD " + r.body);
        }
        return { batchItemFailures };
      };`,
    );
    const dlq = `partial-dlq-${Date.now()}`;
    const dlqUrl = await createQueue(key, dlq);
    const queue = `partial-${Date.now()}`;
    const url = await createQueue(key, queue, {
      VisibilityTimeout: "1",
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOf(key, dlq), maxReceiveCount: 2 }),
    });
    const bodies = ["good-1", "good-2", "poison-1", "good-3", "good-4", "poison-2", "good-5"];
    await sqsOk(key, "SendMessageBatch", { QueueUrl: url, Entries: bodies.map((b, i) => ({ Id: String(i), MessageBody: b })) });
    const uuid = await map(key, { FunctionName: name, EventSourceArn: arnOf(key, queue), BatchSize: 4, FunctionResponseTypes: ["ReportBatchItemFailures"] });

    await until("the DLQ to hold the poison messages", () => attributes(key, dlqUrl), (a) => a.ApproximateNumberOfMessages === "2");
    await until("the source queue to empty", () => depth(key, url), (n) => n === 0);
    const good = await until("every good message in the log", () => logged(key, name, "GOOD"), (l) => l.length >= 5);
    // Each good message ran exactly once: reported failures did not drag their batch-mates along.
    expect(good.sort()).toEqual(["good-1", "good-2", "good-3", "good-4", "good-5"]);
    const dead = await receive(key, dlqUrl, { MaxNumberOfMessages: 10, AttributeNames: ["All"] });
    expect(dead.map((m) => m.Body).sort()).toEqual(["poison-1", "poison-2"]);
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
  });

  it("leaves the whole batch on a function error", async () => {
    const key = await newTenant();
    const name = await makeFunction(key, "error", `exports.handler = async (event) => { console.log("RAN " + event.Records.length); throw new Error("boom"); };`);
    const queue = `error-${Date.now()}`;
    const url = await createQueue(key, queue, { VisibilityTimeout: "30" });
    await sqsOk(key, "SendMessageBatch", { QueueUrl: url, Entries: [{ Id: "a", MessageBody: "one" }, { Id: "b", MessageBody: "two" }] });
    const uuid = await map(key, { FunctionName: name, EventSourceArn: arnOf(key, queue) });
    await until("the failed run", () => logged(key, name, "RAN"), (l) => l.length > 0);
    const got = await until(
      "LastProcessingResult",
      async () => (await signed(key, "GET", `${ESM}/${uuid}`)).json<{ LastProcessingResult: string }>(),
      (m) => m.LastProcessingResult !== "No records processed",
    );
    expect(got.LastProcessingResult).toBe("PROBLEM: Function call failed");
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
    // Nothing deleted: both messages wait out their visibility timeout.
    const a = await attributes(key, url);
    expect(a.ApproximateNumberOfMessagesNotVisible).toBe("2");
  });

  it("deletes the messages its filters drop and delivers the rest", async () => {
    const key = await newTenant();
    const name = await makeFunction(key, "filter", `exports.handler = async (event) => { for (const r of event.Records) console.log("BODY " + r.body); };`);
    const queue = `filter-${Date.now()}`;
    const url = await createQueue(key, queue);
    const bodies = ['{"kind":"keep","n":1}', '{"kind":"drop","n":2}', "not json", '{"kind":"keep","n":3}'];
    await sqsOk(key, "SendMessageBatch", { QueueUrl: url, Entries: bodies.map((b, i) => ({ Id: String(i), MessageBody: b })) });
    await sqsOk(key, "SendMessage", { QueueUrl: url, MessageBody: "vip raw", MessageAttributes: { tier: { DataType: "String", StringValue: "vip" } } });
    await sqsOk(key, "SendMessage", { QueueUrl: url, MessageBody: "basic raw", MessageAttributes: { tier: { DataType: "String", StringValue: "basic" } } });
    const uuid = await map(key, {
      FunctionName: name,
      EventSourceArn: arnOf(key, queue),
      FilterCriteria: {
        Filters: [
          { Pattern: JSON.stringify({ body: { kind: ["keep"] } }) },
          { Pattern: JSON.stringify({ messageAttributes: { tier: { stringValue: ["vip"] } } }) },
        ],
      },
    });
    await until("the queue to empty", () => depth(key, url), (n) => n === 0);
    const seen = await until("the kept messages in the log", () => logged(key, name, "BODY"), (l) => l.length >= 3);
    expect(seen.sort()).toEqual(['{"kind":"keep","n":1}', '{"kind":"keep","n":3}', "vip raw"].sort());
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
  });
});

describe("SQS event source mapping scaling and problems", () => {
  it("runs batches side by side up to MaximumConcurrency when there is a backlog", async () => {
    const key = await newTenant();
    const name = await makeFunction(
      key,
      "scale",
      `exports.handler = async () => { const t0 = Date.now(); await new Promise((r) => setTimeout(r, 400)); console.log("SPAN " + t0 + " " + Date.now()); };`,
    );
    const queue = `scale-${Date.now()}`;
    const url = await createQueue(key, queue);
    await sqsOk(key, "SendMessageBatch", { QueueUrl: url, Entries: Array.from({ length: 8 }, (_, i) => ({ Id: String(i), MessageBody: `m${i}` })) });
    const uuid = await map(key, { FunctionName: name, EventSourceArn: arnOf(key, queue), BatchSize: 1, ScalingConfig: { MaximumConcurrency: 4 } });
    const spans = await until("eight runs", () => logged(key, name, "SPAN"), (l) => l.length >= 8);
    const intervals = spans.map((s) => s.split(" ").map(Number) as [number, number]);
    const overlap = Math.max(...intervals.map(([start]) => intervals.filter(([s, e]) => s <= start && start < e).length));
    expect(overlap).toBeGreaterThanOrEqual(2);
    expect(overlap).toBeLessThanOrEqual(4);
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
  });

  it("takes a message sent while a batch runs at once, with a lane that waits on the queue (no backlog needed)", async () => {
    const key = await newTenant();
    // "slow" holds its lane for 2 s (within the default 3 s timeout); any other message only says when it started.
    const name = await makeFunction(
      key,
      "standby",
      `exports.handler = async (event) => {
        const t0 = Date.now();
        const body = event.Records[0].body;
        if (body === "slow") await new Promise((r) => setTimeout(r, 2000));
        console.log("SPAN " + body + " " + t0 + " " + Date.now());
      };`,
    );
    const queue = `standby-${Date.now()}`;
    const url = await createQueue(key, queue);
    // BatchSize 10, window 0: the first batch holds one message, far from full.
    const uuid = await map(key, { FunctionName: name, EventSourceArn: arnOf(key, queue), ScalingConfig: { MaximumConcurrency: 2 } });
    await sqsOk(key, "SendMessage", { QueueUrl: url, MessageBody: "slow" });
    await until("slow in flight", () => attributes(key, url), (a) => a.ApproximateNumberOfMessagesNotVisible === "1");
    await sqsOk(key, "SendMessage", { QueueUrl: url, MessageBody: "fast" });
    const spans = await until("both runs", () => logged(key, name, "SPAN"), (l) => l.length >= 2);
    const at = Object.fromEntries(spans.map((s) => s.split(" ")).map(([body, start, end]) => [body, { start: Number(start), end: Number(end) }]));
    // "fast" ran while "slow" still ran: it did not wait for the slow batch to finish.
    expect(at.fast!.start).toBeLessThan(at.slow!.end);
    await until("queue drained", () => depth(key, url), (d) => d === 0);
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
  });

  it("backs off on a throttle without deleting the batch", async () => {
    const key = await newTenant();
    const name = await makeFunction(key, "throttle", `exports.handler = async () => { console.log("RAN x"); };`);
    const zero = await signed(key, "PUT", `/2017-10-31/functions/${name}/concurrency`, { ReservedConcurrentExecutions: 0 });
    expect(zero.status).toBe(200);
    const queue = `throttle-${Date.now()}`;
    const url = await createQueue(key, queue, { VisibilityTimeout: "30" });
    await sqsOk(key, "SendMessage", { QueueUrl: url, MessageBody: "held" });
    const uuid = await map(key, { FunctionName: name, EventSourceArn: arnOf(key, queue) });
    const got = await until(
      "a throttled result",
      async () => (await signed(key, "GET", `${ESM}/${uuid}`)).json<{ LastProcessingResult: string }>(),
      (m) => m.LastProcessingResult !== "No records processed",
    );
    expect(got.LastProcessingResult).toBe("PROBLEM: Function call throttled");
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
    expect((await attributes(key, url)).ApproximateNumberOfMessagesNotVisible).toBe("1");
    expect(await logged(key, name, "RAN")).toEqual([]);
  });

  it("disables a mapping whose queue is deleted, with a reason", async () => {
    const key = await newTenant();
    const name = await makeFunction(key, "gone", `exports.handler = async () => null;`);
    const queue = `gone-${Date.now()}`;
    const url = await createQueue(key, queue);
    const uuid = await map(key, { FunctionName: name, EventSourceArn: arnOf(key, queue) });
    await until("Enabled", async () => (await signed(key, "GET", `${ESM}/${uuid}`)).json<{ State: string }>(), (m) => m.State === "Enabled");
    await sqsOk(key, "DeleteQueue", { QueueUrl: url });
    const got = await until(
      "Disabled",
      async () => (await signed(key, "GET", `${ESM}/${uuid}`)).json<{ State: string; StateTransitionReason: string }>(),
      (m) => m.State === "Disabled",
    );
    expect(got.StateTransitionReason).toBe("PROBLEM: The event source queue does not exist.");
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
  });

  it("keeps a batch's event within the 6 MB invoke payload limit", async () => {
    const key = await newTenant();
    const name = await makeFunction(key, "big", `exports.handler = async (event) => { console.log("COUNT " + event.Records.length); };`);
    const queue = `big-${Date.now()}`;
    const url = await createQueue(key, queue);
    const body = "x".repeat(900_000);
    for (let i = 0; i < 8; i++) await sqsOk(key, "SendMessage", { QueueUrl: url, MessageBody: `${i}${body}` });
    const uuid = await map(key, { FunctionName: name, EventSourceArn: arnOf(key, queue), BatchSize: 10 });
    await until("the queue to empty", () => depth(key, url), (n) => n === 0, 30_000);
    const counts = (await until("every run in the log", () => logged(key, name, "COUNT"), (l) => l.map(Number).reduce((a, b) => a + b, 0) >= 8)).map(Number);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(8);
    expect(Math.max(...counts)).toBeLessThanOrEqual(6);
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
  });
});
