import { AwsClient } from "aws4fetch";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { TenantKey } from "../helpers/platform";
import { BASE, createActive, createFunctionBody, errorOf, fn, newTenant, signed, updateAndWait } from "../helpers/platform";

/**
 * The durable-execution APIs in workerd with the real Worker, D1 and
 * Durable Objects: a durable function whose handler holds its invocation
 * open (polling GetDurableExecution until the execution ends) while the test
 * plays the SDK's part: it reads the invocation's checkpoint token from the
 * execution's object and sends checkpoints, polls and callbacks, good and
 * bad, over the signed API, as tenant A and as tenant B.
 */

const HOLDER = `
const { LambdaClient, GetDurableExecutionCommand } = require("@aws-sdk/client-lambda");
const client = new LambdaClient({});
exports.handler = async (event) => {
  for (let i = 0; i < 300; i++) {
    await new Promise((r) => setTimeout(r, 300));
    const d = await client.send(new GetDurableExecutionCommand({ DurableExecutionArn: event.DurableExecutionArn }));
    if (d.Status !== "RUNNING") break;
  }
  return { Status: "PENDING" };
};`;

const DURABLE = { ExecutionTimeout: 300, RetentionPeriodInDays: 1 };
const execPath = (arn: string, tail = "") => `/2025-12-01/durable-executions/${encodeURIComponent(arn)}${tail}`;
const callbackPath = (id: string, action: string) => `/2025-12-01/durable-execution-callbacks/${encodeURIComponent(id)}/${action}`;
type Json = Record<string, any>;

/** A signed call with extra headers and a raw body (Invoke's headers, callback results). */
async function call(key: TenantKey, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Response> {
  const client = new AwsClient({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, service: "lambda", region: "us-east-1" });
  return exports.default.fetch(await client.sign(`${BASE}${path}`, { method, headers, ...(body === undefined ? {} : { body }) }));
}

function objectOf(tenantId: string, functionName: string, executionName: string) {
  return env.DURABLE_EXECUTION.getByName(`${tenantId}/${functionName}/${executionName}`);
}

async function storedRow(stub: DurableObjectStub): Promise<Json> {
  return runInDurableObject(stub, (_instance, state) => JSON.parse(state.storage.sql.exec<{ json: string }>("SELECT json FROM execution").one().json) as Json);
}

/** The token the running invocation holds (the handler's event carried it). */
async function currentToken(stub: DurableObjectStub): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const row = await storedRow(stub);
    if (typeof row.token === "string") return row.token;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no invocation took a token");
}

/** Starts a held execution by name (async invoke of version 1). */
async function startHeld(key: TenantKey, name: string, executionName: string, input: unknown = { hello: "world" }) {
  const res = await call(key, "POST", `${fn(name)}/invocations?Qualifier=1`, JSON.stringify(input), { "X-Amz-Invocation-Type": "Event", "X-Amz-Durable-Execution-Name": executionName });
  if (res.status !== 202) throw new Error(`invoke: ${res.status} ${await res.text()}`);
  const arn = res.headers.get("X-Amz-Durable-Execution-Arn") ?? "";
  return { arn, stub: objectOf(key.tenantId, name, executionName) };
}

async function checkpoint(key: TenantKey, arn: string, token: string, updates?: unknown[]): Promise<Response> {
  return signed(key, "POST", execPath(arn, "/checkpoint"), { CheckpointToken: token, ...(updates === undefined ? {} : { Updates: updates }) });
}

describe("durable functions: configuration and invoke", () => {
  let a: TenantKey;

  beforeAll(async () => {
    a = await newTenant("full", "durable-cfg");
    await createActive(a, createFunctionBody("flow", { "index.js": HOLDER }, { DurableConfig: DURABLE, Publish: true, Timeout: 120 }));
  });

  it("DurableConfig is kept and shown, and can be updated; out-of-range values are refused", async () => {
    const got = await (await signed(a, "GET", `${fn("flow")}/configuration`)).json<Json>();
    expect(got.DurableConfig).toEqual(DURABLE);
    const updated = await updateAndWait(a, "PUT", `${fn("flow")}/configuration`, "flow", { DurableConfig: { RetentionPeriodInDays: 2 } });
    expect(updated.status).toBe(200);
    const after = await (await signed(a, "GET", `${fn("flow")}/configuration`)).json<Json>();
    expect(after.DurableConfig).toEqual({ ExecutionTimeout: 300, RetentionPeriodInDays: 2 });
    const bad = await signed(a, "POST", "/2015-03-31/functions", createFunctionBody("bad", { "index.js": HOLDER }, { DurableConfig: { RetentionPeriodInDays: 91 } }));
    expect(bad.status).toBe(400);
    expect((await signed(a, "GET", `${fn("bad")}/configuration`)).status).toBe(404);
  });

  it("an unqualified invoke is refused as Lambda does; a bad execution name is refused; nothing starts", async () => {
    expect(await errorOf(await signed(a, "POST", `${fn("flow")}/invocations`, {}))).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: "You cannot invoke a durable function using an unqualified ARN.",
    });
    const badName = await call(a, "POST", `${fn("flow")}/invocations?Qualifier=1`, "{}", { "X-Amz-Durable-Execution-Name": "no spaces!" });
    expect((await errorOf(badName)).type).toBe("ValidationException");
    const listed = await (await signed(a, "GET", "/2025-12-01/functions/flow/durable-executions")).json<Json>();
    expect(listed.DurableExecutions).toEqual([]);
  });
});

describe("durable functions: the checkpoint protocol, callbacks, control plane and isolation", () => {
  let a: TenantKey;
  let b: TenantKey;
  let arn: string;
  let stub: DurableObjectStub;

  beforeAll(async () => {
    a = await newTenant("full", "durable-a");
    b = await newTenant("full", "durable-b");
    await createActive(a, createFunctionBody("held", { "index.js": HOLDER }, { DurableConfig: DURABLE, Publish: true, Timeout: 120 }));
    await createActive(b, createFunctionBody("held", { "index.js": HOLDER }, { DurableConfig: DURABLE, Publish: true, Timeout: 120 }));
    ({ arn, stub } = await startHeld(a, "held", "run-1"));
  });

  it("the same name and input is the same execution; another input is 409 DurableExecutionAlreadyStartedException", async () => {
    const again = await startHeld(a, "held", "run-1");
    expect(again.arn).toBe(arn);
    const other = await call(a, "POST", `${fn("held")}/invocations?Qualifier=1`, JSON.stringify({ hello: "else" }), { "X-Amz-Invocation-Type": "Event", "X-Amz-Durable-Execution-Name": "run-1" });
    const refused = await errorOf(other);
    expect(refused.status).toBe(409);
    expect(refused.type).toBe("DurableExecutionAlreadyStartedException");
  });

  it("a checkpoint applies a batch, rotates the token and answers the changed operations; the old token is refused", async () => {
    const token = await currentToken(stub);
    const res = await checkpoint(a, arn, token, [
      { Id: "step-1", Type: "STEP", SubType: "Step", Name: "reserve", Action: "START" },
      { Id: "step-1", Type: "STEP", Action: "SUCCEED", Payload: '{"ok":true}' },
    ]);
    expect(res.status).toBe(200);
    const body = await res.json<Json>();
    expect(body.CheckpointToken).not.toBe(token);
    const step = body.NewExecutionState.Operations.find((o: Json) => o.Id === "step-1");
    expect(step).toMatchObject({ Type: "STEP", Name: "reserve", Status: "SUCCEEDED", StepDetails: { Attempt: 1, Result: '{"ok":true}' } });
    // Epoch seconds, as the SDK's deserializer needs.
    expect(step.StartTimestamp).toBeLessThan(1e11);

    const stale = await errorOf(await checkpoint(a, arn, token, []));
    expect(stale.status).toBe(400);
    expect(stale.type).toBe("InvalidParameterValueException");
    expect(stale.message.startsWith("Invalid Checkpoint Token")).toBe(true);
  });

  it("an invalid batch is refused whole, with the reference messages, and the token stays usable", async () => {
    const token = await currentToken(stub);
    const cases: [unknown[], string][] = [
      [[{ Id: "half", Type: "STEP", Action: "START" }, { Id: "w", Type: "WAIT", Action: "RETRY" }], "Invalid action for the given operation type."],
      [[{ Id: "step-1", Type: "STEP", Action: "START" }], "Invalid current STEP state to start."],
      [[{ Id: "e1", Type: "EXECUTION", Action: "SUCCEED" }, { Id: "e2", Type: "EXECUTION", Action: "SUCCEED" }], "Cannot checkpoint multiple EXECUTION updates."],
      [[{ Id: "kid", ParentId: "step-1", Type: "STEP", Action: "START" }], "Invalid parent operation id."],
      [[{ Id: "big", Type: "STEP", Action: "SUCCEED", Payload: "x".repeat(262_145) }], "Payload size must be less than or equal to 262144 bytes for STEP operations."],
      [[{ Id: "w2", Type: "WAIT", Action: "CANCEL" }], "Cannot cancel a WAIT that does not exist or has already completed."],
    ];
    for (const [updates, message] of cases) {
      expect(await errorOf(await checkpoint(a, arn, token, updates))).toEqual({ status: 400, type: "InvalidParameterValueException", message });
    }
    const state = await (await signed(a, "GET", `${execPath(arn, "/state")}?CheckpointToken=${encodeURIComponent(token)}`)).json<Json>();
    expect(state.Operations.map((o: Json) => o.Id)).not.toContain("half");
    // An empty checkpoint is a poll: nothing changed since this token, nothing answered.
    const poll = await checkpoint(a, arn, token);
    expect(poll.status).toBe(200);
    expect((await poll.json<Json>()).NewExecutionState.Operations).toEqual([]);
  });

  it("a callback gets a service-generated id; only its tenant can answer it, once", async () => {
    let token = await currentToken(stub);
    const started = await (await checkpoint(a, arn, token, [{ Id: "cb-1", Type: "CALLBACK", Action: "START", CallbackOptions: { TimeoutSeconds: 120 } }])).json<Json>();
    token = started.CheckpointToken;
    const callbackId = started.NewExecutionState.Operations.find((o: Json) => o.Id === "cb-1").CallbackDetails.CallbackId as string;
    expect(callbackId).toMatch(/^[A-Za-z0-9_-]+$/);

    expect((await errorOf(await call(b, "POST", callbackPath(callbackId, "succeed"), '"stolen"'))).status).toBe(404);
    expect((await errorOf(await call(b, "POST", callbackPath(callbackId, "heartbeat")))).status).toBe(404);
    expect((await errorOf(await call(a, "POST", callbackPath("bm9wZQ", "succeed"), "1"))).status).toBe(404);
    expect((await errorOf(await call(a, "POST", callbackPath(callbackId, "succeed"), "x".repeat(262_145)))).status).toBe(413);

    expect((await call(a, "POST", callbackPath(callbackId, "heartbeat"))).status).toBe(200);
    expect((await call(a, "POST", callbackPath(callbackId, "succeed"), '"approved"')).status).toBe(200);
    const again = await errorOf(await call(a, "POST", callbackPath(callbackId, "fail"), "{}"));
    expect(again.type).toBe("InvalidParameterValueException");

    // The invocation's next poll sees the answer.
    const poll = await (await checkpoint(a, arn, token)).json<Json>();
    expect(poll.NewExecutionState.Operations).toEqual([expect.objectContaining({ Id: "cb-1", Status: "SUCCEEDED", CallbackDetails: { CallbackId: callbackId, Result: '"approved"' } })]);
  });

  it("GetDurableExecutionState pages the replayable operations", async () => {
    const token = await currentToken(stub);
    const first = await (await signed(a, "GET", `${execPath(arn, "/state")}?CheckpointToken=${encodeURIComponent(token)}&MaxItems=1`)).json<Json>();
    expect(first.Operations).toHaveLength(1);
    expect(first.Operations[0].Type).toBe("EXECUTION");
    expect(first.Operations[0].ExecutionDetails.InputPayload).toBe('{"hello":"world"}');
    const rest = await (await signed(a, "GET", `${execPath(arn, "/state")}?CheckpointToken=${encodeURIComponent(token)}&Marker=${first.NextMarker}&MaxItems=10`)).json<Json>();
    expect(rest.Operations.map((o: Json) => o.Id)).toEqual(["step-1", "cb-1"]);
    expect(rest.NextMarker).toBeUndefined();
    expect((await errorOf(await signed(a, "GET", `${execPath(arn, "/state")}?CheckpointToken=bm9wZQ==`))).message.startsWith("Invalid Checkpoint Token")).toBe(true);
  });

  it("history and listing show the execution", async () => {
    const history = await (await signed(a, "GET", execPath(arn, "/history"))).json<Json>();
    const types = history.Events.map((e: Json) => e.EventType);
    expect(types.slice(0, 3)).toEqual(["ExecutionStarted", "StepStarted", "StepSucceeded"]);
    expect(types).toContain("CallbackStarted");
    expect(types).toContain("CallbackSucceeded");
    expect(history.Events.map((e: Json) => e.EventId)).toEqual(history.Events.map((_: Json, i: number) => i + 1));
    const paged = await (await signed(a, "GET", `${execPath(arn, "/history")}?MaxItems=2`)).json<Json>();
    expect(paged.Events).toHaveLength(2);
    expect(paged.NextMarker).toBe("2");

    const listed = await (await signed(a, "GET", "/2025-12-01/functions/held/durable-executions")).json<Json>();
    expect(listed.DurableExecutions).toEqual([expect.objectContaining({ DurableExecutionArn: arn, DurableExecutionName: "run-1", Status: "RUNNING" })]);
    const filtered = await (await signed(a, "GET", "/2025-12-01/functions/held/durable-executions?Statuses=SUCCEEDED")).json<Json>();
    expect(filtered.DurableExecutions).toEqual([]);
  });

  it("another tenant cannot read, change, stop or list the execution", async () => {
    const token = await currentToken(stub);
    for (const res of [
      await checkpoint(b, arn, token, []),
      await signed(b, "GET", `${execPath(arn, "/state")}?CheckpointToken=${encodeURIComponent(token)}`),
      await signed(b, "GET", execPath(arn)),
      await signed(b, "GET", execPath(arn, "/history")),
      await signed(b, "POST", execPath(arn, "/stop"), {}),
    ]) {
      expect((await errorOf(res)).status).toBe(404);
    }
    // B's own function of the same name lists only B's executions.
    const listed = await (await signed(b, "GET", "/2025-12-01/functions/held/durable-executions")).json<Json>();
    expect(listed.DurableExecutions).toEqual([]);
    // A's execution is untouched.
    expect((await (await signed(a, "GET", execPath(arn))).json<Json>()).Status).toBe("RUNNING");
  });

  it("StopDurableExecution ends it: the token is dead, a second stop is refused", async () => {
    const token = await currentToken(stub);
    const stop = await signed(a, "POST", execPath(arn, "/stop"), { ErrorMessage: "enough" });
    expect(stop.status).toBe(200);
    expect(typeof (await stop.json<Json>()).StopTimestamp).toBe("number");
    const described = await (await signed(a, "GET", execPath(arn))).json<Json>();
    expect(described).toMatchObject({ Status: "STOPPED", Error: { ErrorMessage: "enough" }, DurableExecutionName: "run-1" });
    expect((await errorOf(await checkpoint(a, arn, token, []))).message).toBe("Invalid Checkpoint Token: the durable execution was stopped.");
    expect((await errorOf(await signed(a, "POST", execPath(arn, "/stop"), {}))).status).toBe(409);
  });

  it("after its retention the execution is gone, from its object and from the listing", async () => {
    await runInDurableObject(stub, (_instance, state) => {
      const row = JSON.parse(state.storage.sql.exec<{ json: string }>("SELECT json FROM execution").one().json) as Json;
      row.endedAt = Date.now() - 3 * 86_400_000;
      state.storage.sql.exec("UPDATE execution SET json = ? WHERE k = 1", JSON.stringify(row));
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await signed(a, "GET", execPath(arn))).status).toBe(404);
    const listed = await (await signed(a, "GET", "/2025-12-01/functions/held/durable-executions")).json<Json>();
    expect(listed.DurableExecutions).toEqual([]);
  });

  it("an execution past its ExecutionTimeout ends TIMED_OUT", async () => {
    await createActive(a, createFunctionBody("short", { "index.js": HOLDER }, { DurableConfig: { ExecutionTimeout: 2, RetentionPeriodInDays: 1 }, Publish: true, Timeout: 120 }));
    const held = await startHeld(a, "short", "quick");
    let status = "RUNNING";
    for (let i = 0; i < 100 && status === "RUNNING"; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await (await signed(a, "GET", execPath(held.arn))).json<Json>()).Status;
    }
    expect(status).toBe("TIMED_OUT");
    const types = (await (await signed(a, "GET", execPath(held.arn, "/history"))).json<Json>()).Events.map((e: Json) => e.EventType);
    expect(types.at(-1)).toBe("ExecutionTimedOut");
  });

  it("malformed ARNs and bodies get AWS errors", async () => {
    expect((await errorOf(await signed(a, "GET", execPath("not-an-arn")))).type).toBe("ValidationException");
    const raw = await signed(a, "POST", execPath(arn, "/checkpoint"), "{nope");
    expect((await errorOf(raw)).type).toBe("InvalidRequestContentException");
    expect((await errorOf(await signed(a, "POST", execPath(arn, "/checkpoint"), {}))).type).toBe("ValidationException");
  });
});

describe("StopDurableExecution with a wait, a callback and a step retry pending", () => {
  it("ends the execution only: operations stay as they were, no timer fires, callbacks are refused, the alarm waits for retention", async () => {
    const a = await newTenant("full", "durable-stop");
    await createActive(a, createFunctionBody("pending", { "index.js": HOLDER }, { DurableConfig: DURABLE, Publish: true, Timeout: 120 }));
    const { arn, stub } = await startHeld(a, "pending", "stop-1");
    const token = await currentToken(stub);
    const res = await checkpoint(a, arn, token, [
      { Id: "w", Type: "WAIT", Action: "START", WaitOptions: { WaitSeconds: 1 } },
      { Id: "cb", Type: "CALLBACK", Action: "START", CallbackOptions: { TimeoutSeconds: 1 } },
      { Id: "s", Type: "STEP", Action: "START" },
      { Id: "s", Type: "STEP", Action: "RETRY", Error: { ErrorMessage: "again" }, StepOptions: { NextAttemptDelaySeconds: 1 } },
    ]);
    expect(res.status).toBe(200);
    const callbackId = (await res.json<Json>()).NewExecutionState.Operations.find((o: Json) => o.Id === "cb").CallbackDetails.CallbackId as string;

    expect((await signed(a, "POST", execPath(arn, "/stop"), { ErrorType: "Operator", ErrorMessage: "no longer needed" })).status).toBe(200);
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + 86_400_000 - 60_000);

    // Past every timer's due time, the alarm runs: nothing is completed, nothing invoked.
    await new Promise((r) => setTimeout(r, 1_200));
    await runDurableObjectAlarm(stub);
    const statuses = await runInDurableObject(stub, (_instance, state) =>
      Object.fromEntries(state.storage.sql.exec<{ id: string; json: string }>("SELECT id, json FROM operations").toArray().map((r) => [r.id, (JSON.parse(r.json) as Json).op.Status])),
    );
    expect({ w: statuses.w, cb: statuses.cb, s: statuses.s }).toEqual({ w: "STARTED", cb: "STARTED", s: "PENDING" });
    const events = (await (await signed(a, "GET", execPath(arn, "/history"))).json<Json>()).Events as Json[];
    const types = events.map((e) => e.EventType);
    expect(types).not.toContain("WaitSucceeded");
    expect(types).not.toContain("CallbackTimedOut");
    expect(types.filter((t) => t === "InvocationCompleted")).toHaveLength(0);
    expect(events.at(-1)).toMatchObject({ EventType: "ExecutionStopped", ExecutionStoppedDetails: { Error: { Payload: { ErrorType: "Operator", ErrorMessage: "no longer needed" }, Truncated: false } } });

    for (const action of ["succeed", "fail", "heartbeat"]) {
      expect(await errorOf(await call(a, "POST", callbackPath(callbackId, action), action === "succeed" ? '"late"' : action === "fail" ? "{}" : undefined))).toEqual({
        status: 400,
        type: "InvalidParameterValueException",
        message: "The callback cannot be completed: its durable execution has ended with status STOPPED.",
      });
    }
    expect((await (await signed(a, "GET", execPath(arn))).json<Json>()).Status).toBe("STOPPED");
  });
});

describe("a checkpoint committed whose answer was lost (chaos: durable steps ran twice)", () => {
  let a: TenantKey;
  beforeAll(async () => {
    a = await newTenant("full", "durable-retry");
    await createActive(a, createFunctionBody("held-retry", { "index.js": HOLDER }, { DurableConfig: DURABLE, Publish: true, Timeout: 120 }));
  });

  it("a checkpoint whose answer was lost: the SDK's identical retry gets the same answer and nothing is applied twice; anything else with the used token is refused", async () => {
    const { arn, stub } = await startHeld(a, "held-retry", "run-lost");
    const token = await currentToken(stub);
    const updates = [
      { Id: "step-lost", Type: "STEP", SubType: "Step", Name: "charge", Action: "START" },
      { Id: "step-lost", Type: "STEP", Action: "SUCCEED", Payload: '{"charged":1}' },
    ];
    const first = await checkpoint(a, arn, token, updates);
    expect(first.status).toBe(200);
    const issued = (await first.json<Json>()).CheckpointToken;
    // The answer above is "lost": the client sends the same request again.
    const retry = await checkpoint(a, arn, token, updates);
    expect(retry.status).toBe(200);
    const again = await retry.json<Json>();
    expect(again.CheckpointToken).toBe(issued);
    expect(again.NewExecutionState.Operations.find((o: Json) => o.Id === "step-lost")).toMatchObject({ Status: "SUCCEEDED", StepDetails: { Attempt: 1, Result: '{"charged":1}' } });
    const history = await (await signed(a, "GET", execPath(arn, "/history"))).json<Json>();
    expect(history.Events.filter((e: Json) => e.Id === "step-lost" && e.EventType === "StepSucceeded")).toHaveLength(1);
    // Other updates with the used token are refused.
    expect((await errorOf(await checkpoint(a, arn, token, [{ Id: "step-other", Type: "STEP", Action: "START" }]))).message).toMatch(/^Invalid Checkpoint Token/);
    // Once the issued token is used, the old request is refused too.
    expect((await checkpoint(a, arn, issued, [])).status).toBe(200);
    expect((await errorOf(await checkpoint(a, arn, token, updates))).message).toMatch(/^Invalid Checkpoint Token/);
    expect((await signed(a, "POST", execPath(arn, "/stop"), {})).status).toBe(200);
  });

});
