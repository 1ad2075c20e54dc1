/**
 * Durable functions end to end (issue 17): zips built from the real
 * `@aws/durable-execution-sdk-js` package, deployed and driven with the real
 * `@aws-sdk/client-lambda`. The SDK inside the function finds cellfn's
 * endpoint and credentials on its own (no configuration), checkpoints each
 * step, suspends on waits, retries and callbacks, and is re-invoked by the
 * execution's Durable Object. Every step's side effect is a message on an SQS
 * queue, so the tests count how often each step really ran: a completed step
 * that ran again on replay would show up as an extra message.
 */
import {
  CreateFunctionCommand,
  GetDurableExecutionCommand,
  GetDurableExecutionHistoryCommand,
  InvokeCommand,
  type LambdaClient,
  ListDurableExecutionsByFunctionCommand,
  SendDurableExecutionCallbackFailureCommand,
  SendDurableExecutionCallbackSuccessCommand,
  StopDurableExecutionCommand,
} from "@aws-sdk/client-lambda";
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { bundled } from "./bundle";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DURABLE_EXECUTION_DB, workerdOpenFiles } from "../../bench/lib/proc";
import { createTenantWithKey, lambdaClient, type Platform, startPlatform, type TenantCredentials, sqsClient, untilActive, watched } from "./harness";

const ROLE = "arn:aws:iam::123456789012:role/lambda-role";
const MTIME = new Date("2024-01-01T00:00:00Z");
const zipOf = (files: Record<string, string>) => zipSync(Object.fromEntries(Object.entries(files).map(([name, source]) => [name, [strToU8(source), { mtime: MTIME }]])));

/** Every workflow of this file; the function's WORKFLOW variable picks one. */
const WORKFLOWS = `
const { withDurableExecution } = require("@aws/durable-execution-sdk-js");
const { SQSClient, SendMessageCommand } = require("@aws-sdk/client-sqs");
const sqs = new SQSClient({});
async function mark(run, what) {
  await sqs.send(new SendMessageCommand({ QueueUrl: process.env.MARKS_URL, MessageBody: JSON.stringify({ run, what }) }));
}
const workflows = {
  async order(event, ctx) {
    const reserved = await ctx.step("reserve", async () => { await mark(event.run, "reserve"); return { item: event.item, qty: 2 }; });
    const charged = await ctx.step("charge", async (s) => {
      await mark(event.run, "charge");
      if (s.attempt < 3) throw new Error("card declined on attempt " + s.attempt);
      return { paid: reserved.qty * 5, attempt: s.attempt };
    }, { retryStrategy: (error, attempts) => ({ shouldRetry: attempts < 5, delay: { seconds: 1 } }) });
    const waitStarted = Date.now();
    await ctx.wait("cool-off", { seconds: 3 });
    const shipped = await ctx.step("ship", async () => { await mark(event.run, "ship"); return "shipped " + reserved.item; });
    return { reserved, charged, shipped, resumedAfterWait: waitStarted > 0 };
  },
  async approval(event, ctx) {
    const answer = await ctx.waitForCallback("approval", async (callbackId) => { await mark(event.run, "callback:" + callbackId); },
      { timeout: { seconds: event.timeoutSeconds || 120 } });
    const after = await ctx.step("after", async () => { await mark(event.run, "after"); return "approved"; });
    return { answer, after };
  },
  async fanout(event, ctx) {
    const items = Array.from({ length: event.n }, (_, i) => i);
    const squares = await ctx.map("squares", items, async (c, item) => c.step("square", async () => { await mark(event.run, "square"); return item * item; }), { maxConcurrency: 10 });
    const branches = await ctx.parallel("branches", [
      async (c) => c.step("left", async () => { await mark(event.run, "left"); return "L"; }),
      async (c) => c.step("right", async () => { await mark(event.run, "right"); return "R"; }),
    ]);
    return { count: squares.getResults().length, sum: squares.getResults().reduce((a, b) => a + b, 0), branches: branches.getResults() };
  },
  async chain(event, ctx) {
    const out = await ctx.invoke("call-plain", process.env.TARGET, { x: event.x });
    const doubled = await ctx.step("double", async () => { await mark(event.run, "double"); return out.y * 2; });
    return { out, doubled };
  },
  async restartable(event, ctx) {
    await ctx.step("a", async () => { await mark(event.run, "a"); return 1; });
    if (event.kind === "wait") await ctx.wait("pause", { seconds: 12 });
    const got = event.kind === "callback"
      ? await ctx.waitForCallback("cb", async (callbackId) => { await mark(event.run, "callback:" + callbackId); }, { timeout: { minutes: 5 } })
      : "timer";
    await ctx.step("b", async () => { await mark(event.run, "b"); return 2; });
    return { kind: event.kind, got };
  },
  async sleeper(event, ctx) {
    await ctx.step("before", async () => { await mark(event.run, "before"); return 1; });
    await ctx.wait("long", { seconds: 600 });
    await ctx.step("never", async () => { await mark(event.run, "never"); return 2; });
    return "woke";
  },
};
exports.handler = withDurableExecution(async (event, ctx) => workflows[process.env.WORKFLOW](event, ctx));
`;

const PLAIN = "exports.handler = async (event) => ({ y: event.x + 1 });";

describe("durable functions with the real SDK", () => {
  let platform: Platform;
  let stateDir: string;
  let acme: TenantCredentials;
  let other: TenantCredentials;
  let lambda: LambdaClient;
  let otherLambda: LambdaClient;
  let sqs: SQSClient;
  let marksUrl: string;
  const marks: { run: string; what: string }[] = [];
  let runCounter = 0;
  const newRun = () => `run-${Date.now().toString(36)}-${runCounter++}`;

  /** Drains the marks queue into `marks`; returns the marks of one run. */
  async function marksOf(run: string): Promise<string[]> {
    for (;;) {
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: marksUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      const messages = got.Messages ?? [];
      if (messages.length === 0) break;
      for (const m of messages) marks.push(JSON.parse(m.Body ?? "{}"));
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: marksUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })) }));
    }
    return marks.filter((m) => m.run === run).map((m) => m.what);
  }
  const count = (list: string[], what: string) => list.filter((w) => w === what).length;

  async function createDurable(name: string, workflow: string, code: string, extraEnv: Record<string, string> = {}) {
    await lambda.send(new CreateFunctionCommand({
      FunctionName: name, Role: ROLE, Runtime: "nodejs22.x", Handler: "index.handler", Timeout: 60, Publish: true,
      Code: { ZipFile: zipOf({ "index.js": code }) },
      // The queue as seen from inside a function: the platform's internal host, which stays the same across a restart (the port does not).
      Environment: { Variables: { WORKFLOW: workflow, MARKS_URL: `https://cellfn.internal/${acme.accountId}/durable-marks`, ...extraEnv } },
      DurableConfig: { ExecutionTimeout: 900, RetentionPeriodInDays: 1 },
    }));
    await untilActive(lambda, name);
  }

  async function invoke(name: string, event: unknown, opts: { type?: "Event"; executionName?: string } = {}) {
    const out = await lambda.send(new InvokeCommand({
      FunctionName: name, Qualifier: "1", Payload: JSON.stringify(event),
      ...(opts.type ? { InvocationType: opts.type } : {}),
      ...(opts.executionName ? { DurableExecutionName: opts.executionName } : {}),
    }));
    const text = Buffer.from(out.Payload ?? new Uint8Array()).toString();
    return { out, arn: out.DurableExecutionArn ?? "", body: text === "" ? undefined : JSON.parse(text) };
  }

  async function until(arn: string, statuses: string[], timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = await lambda.send(new GetDurableExecutionCommand({ DurableExecutionArn: arn }));
      if (statuses.includes(got.Status ?? "")) return got;
      if (Date.now() > deadline) throw new Error(`execution still ${got.Status}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  async function historyOf(arn: string) {
    const got = await lambda.send(new GetDurableExecutionHistoryCommand({ DurableExecutionArn: arn, IncludeExecutionData: true, MaxItems: 1000 }));
    return got.Events ?? [];
  }

  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), "cellfn-durable-e2e-"));
    platform = await startPlatform({ stateDir });
    acme = await createTenantWithKey(platform, "durable-acme");
    other = await createTenantWithKey(platform, "durable-other");
    lambda = lambdaClient(platform, acme);
    otherLambda = lambdaClient(platform, other);
    sqs = sqsClient(platform, acme, { maxAttempts: 3 }); // the SDK's default retries, as before
    marksUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "durable-marks" }))).QueueUrl ?? "";
    const code = await watched("bundling the workflows", () => bundled(WORKFLOWS));
    await watched("creating function plain", async () => {
      await lambda.send(new CreateFunctionCommand({ FunctionName: "plain", Role: ROLE, Runtime: "nodejs22.x", Handler: "index.handler", Code: { ZipFile: zipOf({ "index.js": PLAIN }) } }));
      await untilActive(lambda, "plain");
    });
    for (const [name, workflow] of [["order", "order"], ["approval", "approval"], ["fanout", "fanout"], ["chain", "chain"], ["sleeper", "sleeper"], ["restartable", "restartable"]] as const) {
      await watched(`creating durable function ${name}`, () => createDurable(name, workflow, code, { TARGET: "plain" }));
    }
  }, 600_000);

  afterAll(async () => {
    lambda?.destroy();
    otherLambda?.destroy();
    sqs?.destroy();
    await platform?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it("an order workflow: a step that fails twice then succeeds, a wait, no completed step run twice", async () => {
    const run = newRun();
    const started = Date.now();
    const { out, arn, body } = await invoke("order", { run, item: "book" });
    if (out.FunctionError) throw new Error(`${JSON.stringify(body)}\n${platform.output().slice(-4000)}`);
    expect(out.StatusCode).toBe(200);
    expect(arn).toMatch(new RegExp(`^arn:aws:lambda:us-east-1:${acme.accountId}:function:order:1/durable-execution/[a-zA-Z0-9-]+/[a-zA-Z0-9-]+$`));
    expect(body).toEqual({ reserved: { item: "book", qty: 2 }, charged: { paid: 10, attempt: 3 }, shipped: "shipped book", resumedAfterWait: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);

    const seen = await marksOf(run);
    expect({ reserve: count(seen, "reserve"), charge: count(seen, "charge"), ship: count(seen, "ship") }).toEqual({ reserve: 1, charge: 3, ship: 1 });

    const described = await lambda.send(new GetDurableExecutionCommand({ DurableExecutionArn: arn }));
    expect(described.Status).toBe("SUCCEEDED");
    expect(JSON.parse(described.Result ?? "null")).toEqual(body);
    expect(described.StartTimestamp).toBeInstanceOf(Date);

    const events = await historyOf(arn);
    const types = events.map((e) => e.EventType);
    expect(types[0]).toBe("ExecutionStarted");
    expect(types.at(-1)).toBe("ExecutionSucceeded");
    expect(types.filter((t) => t === "StepFailed")).toHaveLength(2);
    expect(types).toContain("WaitStarted");
    expect(types).toContain("WaitSucceeded");
    // The retries and the wait suspended the execution: several invocations, each recorded.
    expect(types.filter((t) => t === "InvocationCompleted").length).toBeGreaterThanOrEqual(3);
    expect(events.map((e) => e.EventId)).toEqual(events.map((_, i) => i + 1));
  }, 120_000);

  it("waitForCallback: completed by SendDurableExecutionCallbackSuccess, failed by ...Failure, and timed out", async () => {
    const okRun = newRun();
    const ok = await invoke("approval", { run: okRun }, { type: "Event" });
    expect(ok.out.StatusCode).toBe(202);
    const callbackId = await callbackIdOf(okRun);
    await lambda.send(new SendDurableExecutionCallbackSuccessCommand({ CallbackId: callbackId, Result: Buffer.from(JSON.stringify({ by: "alice" })) }));
    const done = await until(ok.arn, ["SUCCEEDED", "FAILED"]);
    expect(done.Status).toBe("SUCCEEDED");
    // waitForCallback hands the result over as sent (a string) unless given a serdes.
    expect(JSON.parse(done.Result ?? "null")).toEqual({ answer: JSON.stringify({ by: "alice" }), after: "approved" });
    const okMarks = await marksOf(okRun);
    expect(okMarks.filter((m) => m.startsWith("callback:"))).toHaveLength(1);
    expect(count(okMarks, "after")).toBe(1);
    // A second answer to the same callback is refused, and another tenant cannot answer it at all.
    await expect(lambda.send(new SendDurableExecutionCallbackSuccessCommand({ CallbackId: callbackId, Result: Buffer.from("1") }))).rejects.toMatchObject({ name: "InvalidParameterValueException" });
    await expect(otherLambda.send(new SendDurableExecutionCallbackSuccessCommand({ CallbackId: callbackId, Result: Buffer.from("1") }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });

    const failRun = newRun();
    const failing = await invoke("approval", { run: failRun }, { type: "Event" });
    await lambda.send(new SendDurableExecutionCallbackFailureCommand({ CallbackId: await callbackIdOf(failRun), Error: { ErrorType: "Rejected", ErrorMessage: "manager said no" } }));
    const failed = await until(failing.arn, ["SUCCEEDED", "FAILED"]);
    expect(failed.Status).toBe("FAILED");
    expect(failed.Error?.ErrorMessage).toContain("manager said no");
    expect(count(await marksOf(failRun), "after")).toBe(0);

    const slowRun = newRun();
    const slow = await invoke("approval", { run: slowRun, timeoutSeconds: 2 }, { type: "Event" });
    const slowId = await callbackIdOf(slowRun);
    const timedOut = await until(slow.arn, ["SUCCEEDED", "FAILED"]);
    expect(timedOut.Status).toBe("FAILED");
    await expect(lambda.send(new SendDurableExecutionCallbackSuccessCommand({ CallbackId: slowId, Result: Buffer.from("late") }))).rejects.toMatchObject({ name: "CallbackTimeoutException" });
    expect((await historyOf(slow.arn)).map((e) => e.EventType)).toContain("CallbackTimedOut");
  }, 120_000);

  async function callbackIdOf(run: string): Promise<string> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const id = (await marksOf(run)).find((m) => m.startsWith("callback:"));
      if (id) return id.slice("callback:".length);
      if (Date.now() > deadline) throw new Error("no callback id was sent");
    }
  }

  it("map over 50 items and parallel branches: every item's step ran exactly once", async () => {
    const run = newRun();
    const { out, body } = await invoke("fanout", { run, n: 50 });
    if (out.FunctionError) throw new Error(JSON.stringify(body));
    expect(body).toEqual({ count: 50, sum: Array.from({ length: 50 }, (_, i) => i * i).reduce((a, b) => a + b, 0), branches: ["L", "R"] });
    const seen = await marksOf(run);
    expect({ square: count(seen, "square"), left: count(seen, "left"), right: count(seen, "right") }).toEqual({ square: 50, left: 1, right: 1 });
  }, 120_000);

  it("a chained invoke resumes the execution with the other function's result", async () => {
    const run = newRun();
    const { out, arn, body } = await invoke("chain", { run, x: 20 });
    if (out.FunctionError) throw new Error(JSON.stringify(body));
    expect(body).toEqual({ out: { y: 21 }, doubled: 42 });
    expect(count(await marksOf(run), "double")).toBe(1);
    const types = (await historyOf(arn)).map((e) => e.EventType);
    expect(types).toContain("ChainedInvokeStarted");
    expect(types).toContain("ChainedInvokeSucceeded");
  }, 120_000);

  it("StopDurableExecution ends a suspended execution: it never resumes", async () => {
    const run = newRun();
    const { arn } = await invoke("sleeper", { run }, { type: "Event" });
    const deadline = Date.now() + 30_000;
    while (count(await marksOf(run), "before") === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    await expect(otherLambda.send(new StopDurableExecutionCommand({ DurableExecutionArn: arn }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    const stopped = await lambda.send(new StopDurableExecutionCommand({ DurableExecutionArn: arn, Error: { ErrorMessage: "operator stop" } }));
    expect(stopped.StopTimestamp).toBeInstanceOf(Date);
    const described = await lambda.send(new GetDurableExecutionCommand({ DurableExecutionArn: arn }));
    expect(described.Status).toBe("STOPPED");
    expect((await historyOf(arn)).map((e) => e.EventType).at(-1)).toBe("ExecutionStopped");
    expect(count(await marksOf(run), "never")).toBe(0);
  }, 60_000);

  it("a suspended execution's object is freed once idle (its SQLite database closed), and wakes again on the next call", async () => {
    const run = newRun();
    const { arn } = await invoke("sleeper", { run }, { type: "Event" });
    const deadline = Date.now() + 30_000;
    while (count(await marksOf(run), "before") === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect((await until(arn, ["RUNNING"])).Status).toBe("RUNNING");
    // Opened by the start, the invocation's checkpoints and the GetDurableExecution just made.
    expect(workerdOpenFiles(platform.pgid, DURABLE_EXECUTION_DB)).toBeGreaterThan(0);
    // workerd frees an object 10 s after its last request ends; anything the object kept running
    // (a timer, an unsettled waiter, an RPC in flight) would keep it, and its database, open.
    // Every execution of the earlier tests has ended or is suspended too, so none may stay open.
    const idleBy = Date.now() + 45_000;
    let open = workerdOpenFiles(platform.pgid, DURABLE_EXECUTION_DB);
    while (open > 0 && Date.now() < idleBy) {
      await new Promise((r) => setTimeout(r, 1_000));
      open = workerdOpenFiles(platform.pgid, DURABLE_EXECUTION_DB);
    }
    expect(open).toBe(0);
    // Freed, not lost: the next call opens it again from storage, still suspended in its wait.
    expect((await lambda.send(new GetDurableExecutionCommand({ DurableExecutionArn: arn }))).Status).toBe("RUNNING");
    await lambda.send(new StopDurableExecutionCommand({ DurableExecutionArn: arn }));
    expect(count(await marksOf(run), "never")).toBe(0);
  }, 90_000);

  it("idempotent start by name: the same name and input is the same execution, another input is refused", async () => {
    const run = newRun();
    const name = `order-${run}`;
    const first = await invoke("order", { run, item: "pen" }, { executionName: name });
    const again = await invoke("order", { run, item: "pen" }, { executionName: name });
    expect(again.arn).toBe(first.arn);
    expect(again.body).toEqual(first.body);
    await expect(lambda.send(new InvokeCommand({ FunctionName: "order", Qualifier: "1", DurableExecutionName: name, Payload: JSON.stringify({ run, item: "other" }) })))
      .rejects.toMatchObject({ name: "DurableExecutionAlreadyStartedException", $metadata: { httpStatusCode: 409 } });
    expect(count(await marksOf(run), "reserve")).toBe(1);
    const listed = await lambda.send(new ListDurableExecutionsByFunctionCommand({ FunctionName: "order", DurableExecutionName: name }));
    expect(listed.DurableExecutions?.map((e) => e.DurableExecutionArn)).toEqual([first.arn]);
  }, 120_000);

  it("unqualified invokes are refused, and another tenant cannot read an execution", async () => {
    await expect(lambda.send(new InvokeCommand({ FunctionName: "order", Payload: "{}" }))).rejects.toMatchObject({
      name: "InvalidParameterValueException",
      message: "You cannot invoke a durable function using an unqualified ARN.",
    });
    const listed = await lambda.send(new ListDurableExecutionsByFunctionCommand({ FunctionName: "order" }));
    const arn = listed.DurableExecutions?.[0]?.DurableExecutionArn ?? "";
    expect(arn).not.toBe("");
    await expect(otherLambda.send(new GetDurableExecutionCommand({ DurableExecutionArn: arn }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    await expect(otherLambda.send(new GetDurableExecutionHistoryCommand({ DurableExecutionArn: arn }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  }, 60_000);
  // Last: it restarts wrangler dev.
  it("executions suspended in waits and callbacks survive a restart of wrangler dev: all finish, no step twice", async () => {
    const waits = [newRun(), newRun(), newRun()];
    const callbacks = [newRun(), newRun()];
    const arns = new Map<string, string>();
    for (const run of waits) arns.set(run, (await invoke("restartable", { run, kind: "wait" }, { type: "Event" })).arn);
    for (const run of callbacks) arns.set(run, (await invoke("restartable", { run, kind: "callback" }, { type: "Event" })).arn);
    const ids = new Map<string, string>();
    for (const run of callbacks) ids.set(run, await callbackIdOf(run));
    const deadline = Date.now() + 30_000;
    for (const run of waits) {
      while (count(await marksOf(run), "a") === 0) {
        if (Date.now() > deadline) throw new Error("the waits did not start");
      }
    }
    // All are suspended now: no invocation runs while they wait.
    for (const run of [...waits, ...callbacks]) {
      expect((await lambda.send(new GetDurableExecutionCommand({ DurableExecutionArn: arns.get(run) ?? "" }))).Status).toBe("RUNNING");
    }

    const vars = { ADMIN_TOKEN: platform.adminToken, KEY_DERIVATION_SECRET: platform.keyDerivationSecret };
    lambda.destroy();
    otherLambda.destroy();
    sqs.destroy();
    await platform.stop();
    platform = await startPlatform({ stateDir, vars });
    lambda = lambdaClient(platform, acme);
    otherLambda = lambdaClient(platform, other);
    sqs = sqsClient(platform, acme, { maxAttempts: 3 }); // the SDK's default retries, as before

    for (const run of callbacks) {
      await lambda.send(new SendDurableExecutionCallbackSuccessCommand({ CallbackId: ids.get(run) ?? "", Result: Buffer.from(JSON.stringify(run)) }));
    }
    for (const run of [...waits, ...callbacks]) {
      const done = await until(arns.get(run) ?? "", ["SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"], 90_000);
      expect({ status: done.Status, error: done.Error }).toEqual({ status: "SUCCEEDED", error: undefined });
      const seen = await marksOf(run);
      expect({ a: count(seen, "a"), b: count(seen, "b") }).toEqual({ a: 1, b: 1 });
    }
  }, 240_000);
});
