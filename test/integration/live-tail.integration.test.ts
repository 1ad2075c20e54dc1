import { env, exports } from "cloudflare:workers";
import { AwsClient } from "aws4fetch";
import { beforeAll, describe, expect, it } from "vitest";
import { recordInvocationLog } from "../../src/logs/ingest";
import { liveTailStream } from "../../src/logs/live-tail";
import { LogDirectory } from "../../src/logs/log-directory";
import { LogGroup } from "../../src/logs/log-group";
import { eventStreamMessages } from "../helpers/event-stream";
import { awsJson, BASE, newTenant, type TenantKey } from "../helpers/platform";

// StartLiveTail end to end inside workerd: validation and missing groups
// answer JSON errors before any stream; a session's event stream (decoded
// with @smithy's EventStreamCodec, the SDK v3 decoder) starts with
// sessionStart and shows only what is ingested after it, filtered by stream
// and pattern, sampled to 500 events; the 3-hour limit ends it with
// SessionTimeoutException (run here with a short limit).

interface Message {
  kind: string;
  type: string;
  body: Record<string, unknown>;
}
interface Update {
  sessionMetadata: { sampled: boolean };
  sessionResults: { logStreamName: string; logGroupIdentifier: string; message: string; timestamp: number; ingestionTime: number }[];
}

/** The stream's messages as they arrive: events by `:event-type`, exceptions by `:exception-type`, JSON bodies. */
async function* messages(body: ReadableStream<Uint8Array>): AsyncGenerator<Message> {
  for await (const message of eventStreamMessages(body)) {
    const kind = String(message.headers[":message-type"]?.value);
    const type = String(message.headers[kind === "exception" ? ":exception-type" : ":event-type"]?.value);
    yield { kind, type, body: JSON.parse(new TextDecoder().decode(message.body)) as Record<string, unknown> };
  }
}

async function startLiveTail(key: TenantKey, input: unknown): Promise<Response> {
  const client = new AwsClient({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, service: "logs", region: "us-east-1" });
  const request = await client.sign(`${BASE}/`, {
    method: "POST",
    headers: { "x-amz-target": "Logs_20140328.StartLiveTail", "content-type": "application/x-amz-json-1.1" },
    body: JSON.stringify(input),
  });
  return exports.default.fetch(request);
}

/** The stream's first events: `initial-response` (empty, as botocore requires it) and `sessionStart`, returned. */
async function started(stream: AsyncGenerator<Message>): Promise<Message> {
  expect((await stream.next()).value).toEqual({ kind: "event", type: "initial-response", body: {} });
  const start = (await stream.next()).value as Message;
  expect([start.kind, start.type]).toEqual(["event", "sessionStart"]);
  return start;
}

/** Session updates until `until` holds for the events seen so far (or `maxUpdates` pass). */
async function collect(stream: AsyncGenerator<Message>, until: (events: Update["sessionResults"]) => boolean, maxUpdates = 10): Promise<{ updates: Update[]; events: Update["sessionResults"] }> {
  const updates: Update[] = [];
  const events: Update["sessionResults"] = [];
  for (let i = 0; i < maxUpdates; i++) {
    const next = await stream.next();
    if (next.done) break;
    expect(next.value.type).toBe("sessionUpdate");
    const update = next.value.body as unknown as Update;
    updates.push(update);
    events.push(...update.sessionResults);
    if (until(events)) break;
  }
  return { updates, events };
}

const GROUP = "/aws/lambda/tailed";
const OTHER_GROUP = "/aws/lambda/tailed-too";
let acme: TenantKey;
let other: TenantKey;
const arn = (key: TenantKey, group: string) => `arn:aws:logs:us-east-1:${key.accountId}:log-group:${group}`;
const write = (stream: string, lines: string[], group = GROUP) =>
  recordInvocationLog(env, { tenantId: acme.tenantId, logGroup: group, logStream: stream, lines: lines.map((message) => ({ timestamp: Date.now(), message })) });

beforeAll(async () => {
  acme = await newTenant("full", "livetail-acme");
  other = await newTenant("full", "livetail-other");
  await write("2026/12/04/[$LATEST]old", ["before the session"]);
  await write("2026/12/04/[$LATEST]old", ["elsewhere"], OTHER_GROUP);
});

describe("StartLiveTail refuses bad input and missing groups with JSON errors, before any stream", () => {
  const cases: Array<[string, unknown, string, RegExp]> = [
    ["no groups", {}, "InvalidParameterException", /Value null at 'logGroupIdentifiers'/],
    ["11 groups", { logGroupIdentifiers: Array.from({ length: 11 }, (_, i) => `g${i}`) }, "InvalidParameterException", /less than or equal to 10/],
    ["names and prefixes", { logGroupIdentifiers: [GROUP], logStreamNames: ["a"], logStreamNamePrefixes: ["b"] }, "InvalidParameterException", /mutually exclusive/],
    ["streams with two groups", { logGroupIdentifiers: [GROUP, OTHER_GROUP], logStreamNames: ["a"] }, "InvalidParameterException", /single log group/],
    ["an ARN ending in :*", { logGroupIdentifiers: [`${GROUP}:*`] }, "InvalidParameterException", /logGroupIdentifiers\.1\.member' failed to satisfy constraint: Member must satisfy regular expression pattern/],
    ["a filter pattern that does not parse", { logGroupIdentifiers: [GROUP], logEventFilterPattern: "{ $.x = " }, "InvalidParameterException", /Invalid filter pattern/],
    ["a missing group", { logGroupIdentifiers: [GROUP, "/aws/lambda/none"] }, "ResourceNotFoundException", /Log group '\/aws\/lambda\/none' does not exist/],
  ];
  for (const [what, input, type, message] of cases) {
    it(what, async () => {
      const res = await awsJson(acme, "logs", "Logs_20140328.StartLiveTail", input);
      expect(res.status).toBe(400);
      expect(res.body.__type).toBe(type);
      expect(String(res.body.message)).toMatch(message);
    });
  }

  it("another tenant's group, by name or by ARN, is missing", async () => {
    for (const id of [GROUP, arn(acme, GROUP)]) {
      const res = await awsJson(other, "logs", "Logs_20140328.StartLiveTail", { logGroupIdentifiers: [id] });
      expect([res.status, res.body.__type]).toEqual([400, "ResourceNotFoundException"]);
    }
  });
});

describe("a live tail session", () => {
  it("starts with sessionStart, then shows only lines ingested after it, from every group named, within an update or two", async () => {
    const res = await startLiveTail(acme, { logGroupIdentifiers: [arn(acme, GROUP), OTHER_GROUP] });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.amazon.eventstream");
    const stream = messages(res.body as ReadableStream<Uint8Array>);
    const start = await started(stream);
    expect(start.body).toMatchObject({ requestId: res.headers.get("x-amzn-RequestId"), logGroupIdentifiers: [arn(acme, GROUP), OTHER_GROUP] });
    expect(start.body.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const written = Date.now();
    await write("2026/12/04/[$LATEST]new", ["first live line", "second live line"]);
    await write("2026/12/04/[$LATEST]new", ["from the other group"], OTHER_GROUP);
    const { updates, events } = await collect(stream, (seen) => seen.length >= 3);
    expect(updates.length).toBeLessThanOrEqual(3);
    expect(events.map((e) => e.message).sort()).toEqual(["first live line", "from the other group", "second live line"]);
    const first = events.find((e) => e.message === "first live line");
    expect(first).toMatchObject({ logStreamName: "2026/12/04/[$LATEST]new", logGroupIdentifier: `${acme.accountId}:${GROUP}` });
    expect(first?.ingestionTime).toBeGreaterThanOrEqual(written);
    expect(updates.every((u) => u.sessionMetadata.sampled === false)).toBe(true);
    await stream.return(undefined);
  });

  it("keeps only the streams and lines asked for: stream prefixes and a filter pattern", async () => {
    const res = await startLiveTail(acme, { logGroupIdentifiers: [GROUP], logStreamNamePrefixes: ["2026/12/04/[2]"], logEventFilterPattern: '{ $.level = "ERROR" }' });
    const stream = messages(res.body as ReadableStream<Uint8Array>);
    expect((await started(stream)).body).toMatchObject({ logStreamNamePrefixes: ["2026/12/04/[2]"], logEventFilterPattern: '{ $.level = "ERROR" }' });
    await write("2026/12/04/[1]e", [JSON.stringify({ level: "ERROR", n: 1 })]);
    await write("2026/12/04/[2]e", [JSON.stringify({ level: "INFO", n: 2 }), JSON.stringify({ level: "ERROR", n: 3 })]);
    await write("2026/12/04/[2]e", ["done"]);
    // The last line ("done") does not match: wait for two updates after the matching one.
    const { events } = await collect(stream, () => false, 3);
    expect(events.map((e) => JSON.parse(e.message) as unknown)).toEqual([{ level: "ERROR", n: 3 }]);
    await stream.return(undefined);
  });

  it("samples more than 500 new lines in a second down to 500 and says so", async () => {
    const res = await startLiveTail(acme, { logGroupIdentifiers: [GROUP], logStreamNames: ["burst"] });
    const stream = messages(res.body as ReadableStream<Uint8Array>);
    await started(stream);
    await write("burst", Array.from({ length: 1200 }, (_, i) => `line ${i}`));
    const { updates } = await collect(stream, (seen) => seen.length > 0);
    const update = updates.at(-1);
    expect(update?.sessionResults).toHaveLength(500);
    expect(update?.sessionMetadata.sampled).toBe(true);
    expect(update?.sessionResults[0]?.message).toBe("line 0");
    await stream.return(undefined);
  });
});

describe("the session's limits", () => {
  it("ends with SessionTimeoutException in the stream (3 hours in service; 1.5 s here), and gives back its lease", async () => {
    const object = LogGroup.of(env, acme.tenantId, GROUP);
    const session = { requestId: "r", sessionId: "s", accountId: acme.accountId, groups: [{ identifier: GROUP, name: GROUP, object }] };
    const directory = LogDirectory.of(env, `lease-probe-${crypto.randomUUID()}`);
    expect(await directory.openLiveTail("s", Date.now(), 30_000, 1)).toBe(true);
    const lease = { renew: () => directory.renewLiveTail("s", Date.now(), 30_000), close: () => directory.closeLiveTail("s") };
    const { cursor } = await object.liveTail(null, { pattern: "" });
    const got: Message[] = [];
    for await (const message of messages(liveTailStream(session, [cursor], { maxMs: 1500, intervalMs: 500, lease }))) got.push(message);
    expect(got.map((m) => `${m.kind}:${m.type}`)).toEqual(["event:initial-response", "event:sessionStart", "event:sessionUpdate", "event:sessionUpdate", "exception:SessionTimeoutException"]);
    expect(got.at(-1)?.body.message).toMatch(/timed out/);
    expect(await directory.openLiveTail("next", Date.now(), 30_000, 1)).toBe(true);
  });

  it("allows 15 open sessions per account: the 16th gets LimitExceededException until one closes", async () => {
    const busy = await newTenant("full", "livetail-busy");
    await recordInvocationLog(env, { tenantId: busy.tenantId, logGroup: GROUP, logStream: "s", lines: [{ timestamp: Date.now(), message: "x" }] });
    const open = await Promise.all(
      Array.from({ length: 15 }, async () => {
        const res = await startLiveTail(busy, { logGroupIdentifiers: [GROUP] });
        expect(res.status).toBe(200);
        const stream = messages(res.body as ReadableStream<Uint8Array>);
        await started(stream);
        return stream;
      }),
    );
    try {
      const refused = await awsJson(busy, "logs", "Logs_20140328.StartLiveTail", { logGroupIdentifiers: [GROUP] });
      expect([refused.status, refused.body.__type]).toEqual([400, "LimitExceededException"]);
      expect(String(refused.body.message)).toMatch(/maximum number of concurrent Live Tail sessions \(15\)/);
      // Another tenant is not limited by this one's sessions.
      const elsewhere = await startLiveTail(acme, { logGroupIdentifiers: [GROUP] });
      expect(elsewhere.status).toBe(200);
      await elsewhere.body?.cancel();
      await open.pop()?.return(undefined);
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        const res = await startLiveTail(busy, { logGroupIdentifiers: [GROUP] });
        status = res.status;
        if (status === 200) open.push(messages(res.body as ReadableStream<Uint8Array>));
        else await res.arrayBuffer();
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
    } finally {
      await Promise.all(open.map((stream) => stream.return(undefined)));
    }
  });
});
