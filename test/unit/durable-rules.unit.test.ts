import { describe, expect, it } from "vitest";
import { readInvocationOutcome } from "../../src/durable/invocation-outcome";
import { SLOT_WAIT_FALLBACK_BASE_MS, slotWaitFallbackMs, THROTTLE_RETRY_BASE_MS, THROTTLE_RETRY_CAP_MS, throttleRetryDelayMs } from "../../src/durable/throttle-backoff";
import { callbackRefusal, staleTokenMessage } from "../../src/durable/lifecycle";
import { callbackIdOf, executionArn, parseCallbackId, parseExecutionArn } from "../../src/durable/names";
import { answerCallback, applyUpdates, dueTransitions, finishChained, nextDueAt, replayable } from "../../src/durable/transitions";
import type { ApplyContext } from "../../src/durable/transitions";
import type { Operation, OperationRecord, OperationUpdate } from "../../src/durable/types";
import { checkUpdateShapes, CheckpointRejected, validateUpdates } from "../../src/durable/validate";

const T0 = 1_700_000_000_000;

function ctx(now = T0): ApplyContext & { ids: string[] } {
  let seq = 1;
  const ids: string[] = [];
  return { now, executionOpId: "exec", nextSeq: () => seq++, callbackId: (opId) => (ids.push(opId), `cb-${opId}`), ids };
}

function apply(updates: OperationUpdate[], records: OperationRecord[] = [], now = T0) {
  const map = new Map(records.map((r) => [r.op.Id, r]));
  validateUpdates(updates, new Map(records.map((r) => [r.op.Id, r.op])));
  return applyUpdates(map, updates, ctx(now));
}

function record(op: Partial<Operation> & Pick<Operation, "Id" | "Type" | "Status">, seq = 1): OperationRecord {
  return { op: { StartTimestamp: T0, ...op }, seq, changedAt: 1, control: {} };
}

const rejection = (updates: OperationUpdate[], records: OperationRecord[] = []) => {
  try {
    validateUpdates(updates, new Map(records.map((r) => [r.op.Id, r.op])));
  } catch (err) {
    if (err instanceof CheckpointRejected) return err.message;
    throw err;
  }
  return null;
};

describe("checkpoint validation (the reference service's rules and messages)", () => {
  it("refuses actions a type does not take", () => {
    expect(rejection([{ Id: "w", Type: "WAIT", Action: "RETRY" }])).toBe("Invalid action for the given operation type.");
    expect(rejection([{ Id: "e", Type: "EXECUTION", Action: "START" }])).toBe("Invalid action for the given operation type.");
    expect(rejection([{ Id: "c", Type: "CONTEXT", Action: "CANCEL" }])).toBe("Invalid action for the given operation type.");
  });

  it("allows one EXECUTION update, last", () => {
    const exec = (id: string): OperationUpdate => ({ Id: id, Type: "EXECUTION", Action: "SUCCEED", Payload: "1" });
    expect(rejection([exec("a"), exec("b")])).toBe("Cannot checkpoint multiple EXECUTION updates.");
    expect(rejection([exec("a"), { Id: "s", Type: "STEP", Action: "START" }])).toBe("EXECUTION checkpoint must be the last update.");
    expect(rejection([{ Id: "s", Type: "STEP", Action: "START" }, exec("a")])).toBeNull();
  });

  it("checks state transitions", () => {
    const done = record({ Id: "s", Type: "STEP", Status: "SUCCEEDED" });
    expect(rejection([{ Id: "s", Type: "STEP", Action: "START" }], [done])).toBe("Invalid current STEP state to start.");
    expect(rejection([{ Id: "s", Type: "STEP", Action: "SUCCEED" }], [done])).toBe("Invalid current STEP state to close.");
    expect(rejection([{ Id: "s", Type: "STEP", Action: "RETRY", StepOptions: { NextAttemptDelaySeconds: 1 } }], [done])).toBe("Invalid current STEP state to re-attempt.");
    expect(rejection([{ Id: "x", Type: "STEP", Action: "RETRY" }])).toBe("Invalid StepOptions for the given action.");
    expect(rejection([{ Id: "w", Type: "WAIT", Action: "CANCEL" }])).toBe("Cannot cancel a WAIT that does not exist or has already completed.");
    expect(rejection([{ Id: "w", Type: "WAIT", Action: "START", WaitOptions: { WaitSeconds: 1 } }], [record({ Id: "w", Type: "WAIT", Status: "STARTED" })])).toBe("Cannot start a WAIT that already exists.");
    expect(rejection([{ Id: "c", Type: "CONTEXT", Action: "FAIL", Payload: "x" }])).toBe("Cannot provide a Payload for FAIL action.");
    expect(rejection([{ Id: "c", Type: "STEP", Action: "SUCCEED", Error: { ErrorMessage: "x" } }])).toBe("Cannot provide an Error for SUCCEED action.");
  });

  it("checks parents and duplicates", () => {
    expect(rejection([{ Id: "s", ParentId: "nope", Type: "STEP", Action: "START" }])).toBe("Invalid parent operation id.");
    expect(rejection([{ Id: "s", ParentId: "p", Type: "STEP", Action: "START" }], [record({ Id: "p", Type: "STEP", Status: "STARTED" })])).toBe("Invalid parent operation id.");
    expect(rejection([{ Id: "p", Type: "CONTEXT", Action: "START" }, { Id: "s", ParentId: "p", Type: "STEP", Action: "START" }])).toBeNull();
    expect(rejection([{ Id: "s", Type: "STEP", Action: "START" }, { Id: "s", Type: "STEP", Action: "SUCCEED", Payload: "1" }])).toBeNull();
    expect(rejection([{ Id: "w", Type: "WAIT", Action: "START", WaitOptions: { WaitSeconds: 1 } }, { Id: "w", Type: "WAIT", Action: "CANCEL" }])).toBe("Cannot update the same operation twice in a single request.");
  });

  it("limits payload sizes and request shapes", () => {
    const big = "x".repeat(262_145);
    expect(rejection([{ Id: "s", Type: "STEP", Action: "SUCCEED", Payload: big }])).toMatch(/^Payload size must be less than or equal to 262144 bytes/);
    expect(rejection([{ Id: "i", Type: "CHAINED_INVOKE", Action: "START", Payload: big, ChainedInvokeOptions: { FunctionName: "f" } }])).toBeNull();
    expect(() => checkUpdateShapes([{ Id: "bad id!", Type: "STEP", Action: "START" }])).toThrow(CheckpointRejected);
    expect(() => checkUpdateShapes([{ Id: "a", Type: "NOPE", Action: "START" }])).toThrow("Invalid operation type.");
    expect(() => checkUpdateShapes([{ Id: "a", Type: "WAIT", Action: "START", WaitOptions: { WaitSeconds: 0 } }])).toThrow(/waitSeconds/);
    expect(() => checkUpdateShapes("nope")).toThrow(CheckpointRejected);
    expect(checkUpdateShapes(undefined)).toEqual([]);
  });
});

describe("operation state machines", () => {
  it("STEP: start, retry to PENDING with the next attempt time, READY when due, then succeed", () => {
    const started = apply([{ Id: "s", Type: "STEP", SubType: "Step", Name: "charge", Action: "START" }]);
    const s1 = started.changed[0];
    if (!s1) throw new Error("no record");
    expect(s1.op).toMatchObject({ Status: "STARTED", Name: "charge", SubType: "Step" });
    const retried = apply([{ Id: "s", Type: "STEP", Action: "RETRY", Error: { ErrorMessage: "no" }, StepOptions: { NextAttemptDelaySeconds: 5 } }], [s1], T0 + 100);
    const s2 = retried.changed[0];
    if (!s2) throw new Error("no record");
    expect(s2.op.Status).toBe("PENDING");
    expect(s2.op.StepDetails).toMatchObject({ Attempt: 1, NextAttemptTimestamp: T0 + 5_100 });
    expect(retried.events[0]).toMatchObject({ EventType: "StepFailed", details: { value: { RetryDetails: { CurrentAttempt: 1, NextAttemptDelaySeconds: 5 } } } });
    expect(nextDueAt([s2])).toBe(T0 + 5_100);
    expect(dueTransitions([s2], T0 + 5_000)).toEqual([]);
    const [ready] = dueTransitions([s2], T0 + 5_100);
    expect(ready?.record.op.Status).toBe("READY");
    const done = apply([{ Id: "s", Type: "STEP", Action: "SUCCEED", Payload: "42" }], [ready?.record ?? s2]);
    expect(done.changed[0]?.op).toMatchObject({ Status: "SUCCEEDED", StepDetails: { Attempt: 2, Result: "42" } });
  });

  it("WAIT: scheduled end, succeeds when due", () => {
    const started = apply([{ Id: "w", Type: "WAIT", Action: "START", WaitOptions: { WaitSeconds: 3 } }]);
    const w = started.changed[0];
    if (!w) throw new Error("no record");
    expect(w.op.WaitDetails?.ScheduledEndTimestamp).toBe(T0 + 3_000);
    const [done] = dueTransitions([w], T0 + 3_000);
    expect(done?.record.op).toMatchObject({ Status: "SUCCEEDED", EndTimestamp: T0 + 3_000 });
    expect(done?.event?.EventType).toBe("WaitSucceeded");
  });

  it("CALLBACK: a service-generated id; success, failure, heartbeat and timeouts", () => {
    const c = ctx();
    const out = applyUpdates(new Map(), [{ Id: "cb", Type: "CALLBACK", Action: "START", CallbackOptions: { TimeoutSeconds: 10, HeartbeatTimeoutSeconds: 4 } }], c);
    const cb = out.changed[0];
    if (!cb) throw new Error("no record");
    expect(cb.op.CallbackDetails?.CallbackId).toBe("cb-cb");
    expect(nextDueAt([cb])).toBe(T0 + 4_000);
    const beat = answerCallback(cb, { kind: "heartbeat" }, T0 + 3_000).record;
    expect(nextDueAt([beat])).toBe(T0 + 7_000);
    expect(answerCallback(cb, { kind: "succeed", result: '"ok"' }, T0 + 1).record.op).toMatchObject({ Status: "SUCCEEDED", CallbackDetails: { Result: '"ok"' } });
    expect(answerCallback(cb, { kind: "fail", error: { ErrorMessage: "no" } }, T0 + 1).event?.EventType).toBe("CallbackFailed");
    // An empty answer (sendCallbackSuccess(undefined)) leaves Result unset, in the operation and its event.
    const empty = answerCallback(cb, { kind: "succeed" }, T0 + 1);
    expect(empty.record.op.CallbackDetails).toEqual({ CallbackId: "cb-cb" });
    expect(empty.event?.details?.value).toEqual({});
    const [missed] = dueTransitions([cb], T0 + 4_000);
    expect(missed?.record.op).toMatchObject({ Status: "TIMED_OUT", CallbackDetails: { Error: { ErrorMessage: "Callback timed out on heartbeat" } } });
    const [timedOut] = dueTransitions([beat], T0 + 10_000);
    expect(timedOut?.record.op.CallbackDetails?.Error?.ErrorMessage).toBe("Callback timed out");
  });

  it("CHAINED_INVOKE: start asks for a dispatch; the result completes it", () => {
    const out = apply([{ Id: "i", Type: "CHAINED_INVOKE", Action: "START", Payload: "{}", ChainedInvokeOptions: { FunctionName: "other" } }]);
    expect(out.chainedStarts).toEqual(["i"]);
    const rec = out.changed[0];
    if (!rec) throw new Error("no record");
    expect(rec.control.chained).toEqual({ functionName: "other", payload: "{}" });
    expect(finishChained(rec, { status: "SUCCEEDED", result: "1" }, T0).record.op).toMatchObject({ Status: "SUCCEEDED", ChainedInvokeDetails: { Result: "1" } });
    expect(finishChained(rec, { status: "FAILED", error: { ErrorMessage: "x" } }, T0).event?.EventType).toBe("ChainedInvokeFailed");
  });

  it("EXECUTION updates end the execution, whatever id they carry", () => {
    const out = apply([{ Id: "execution-result-1", Type: "EXECUTION", Action: "SUCCEED", Payload: "big" }]);
    expect(out.ended).toEqual({ status: "SUCCEEDED", result: "big" });
    expect(out.changed.map((r) => r.op.Id)).toEqual(["exec"]);
  });

  it("replay leaves out the children of a completed CONTEXT unless it asks for them", () => {
    const ctxDone = record({ Id: "c", Type: "CONTEXT", Status: "SUCCEEDED" }, 1);
    const child = record({ Id: "s", ParentId: "c", Type: "STEP", Status: "SUCCEEDED" }, 2);
    const grandchild = record({ Id: "g", ParentId: "s2", Type: "STEP", Status: "SUCCEEDED" }, 4);
    const nested = record({ Id: "s2", ParentId: "c", Type: "CONTEXT", Status: "SUCCEEDED" }, 3);
    expect(replayable([child, ctxDone, nested, grandchild]).map((r) => r.op.Id)).toEqual(["c"]);
    const replaying = record({ Id: "c", Type: "CONTEXT", Status: "SUCCEEDED", ContextDetails: { ReplayChildren: true } }, 1);
    expect(replayable([child, replaying]).map((r) => r.op.Id)).toEqual(["c", "s"]);
    const running = record({ Id: "c", Type: "CONTEXT", Status: "STARTED" }, 1);
    expect(replayable([child, running]).map((r) => r.op.Id)).toEqual(["c", "s"]);
  });
});

describe("after StopDurableExecution", () => {
  it("a callback left STARTED by the stop refuses answers because the execution ended; a timed-out one stays CallbackTimeout", () => {
    expect(callbackRefusal("RUNNING", "STARTED")).toBeNull();
    expect(callbackRefusal("STOPPED", "STARTED")).toEqual({ code: "InvalidParameter", message: "The callback cannot be completed: its durable execution has ended with status STOPPED." });
    expect(callbackRefusal("RUNNING", "SUCCEEDED")?.message).toBe("The callback has already completed with status SUCCEEDED.");
    expect(callbackRefusal("STOPPED", "TIMED_OUT")?.code).toBe("CallbackTimeout");
  });

  it("a checkpoint of a stopped execution is an invocation error for the SDK (Invalid Checkpoint Token); other ends keep the reference wording", () => {
    expect(staleTokenMessage("STOPPED").startsWith("Invalid Checkpoint Token")).toBe(true);
    expect(staleTokenMessage("SUCCEEDED")).toBe("Invalid checkpoint token");
    expect(staleTokenMessage("RUNNING").startsWith("Invalid Checkpoint Token")).toBe(true);
  });
});

describe("names", () => {
  it("execution ARNs round-trip and refuse other shapes", () => {
    const arn = executionArn({ accountId: "123456789012", region: "us-east-1" }, "fn", "3", "my-run", "abc-123");
    expect(arn).toBe("arn:aws:lambda:us-east-1:123456789012:function:fn:3/durable-execution/my-run/abc-123");
    expect(parseExecutionArn(arn)).toEqual({ region: "us-east-1", accountId: "123456789012", functionName: "fn", version: "3", executionName: "my-run", executionId: "abc-123" });
    expect(parseExecutionArn("arn:aws:lambda:us-east-1:123456789012:function:fn/durable-execution/a/b")).toBeNull();
    expect(parseExecutionArn("nope")).toBeNull();
  });

  it("callback ids round-trip; garbage is refused", () => {
    const id = callbackIdOf({ functionName: "fn", executionName: "run-1", nonce: "n0nce" });
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(parseCallbackId(id)).toEqual({ functionName: "fn", executionName: "run-1", nonce: "n0nce" });
    expect(parseCallbackId("!!!")).toBeNull();
    expect(parseCallbackId(btoa("only-one-part"))).toBeNull();
  });
});

describe("what an invocation answered", () => {
  it("reads the SDK's statuses; anything else is an invocation failure", () => {
    expect(readInvocationOutcome({ kind: "returned", payload: '{"Status":"SUCCEEDED","Result":"1"}' })).toEqual({ kind: "succeeded", result: "1" });
    expect(readInvocationOutcome({ kind: "returned", payload: '{"Status":"PENDING"}' })).toEqual({ kind: "pending" });
    expect(readInvocationOutcome({ kind: "returned", payload: '{"Status":"FAILED","Error":{"ErrorMessage":"x"}}' })).toEqual({ kind: "execution-failed", error: { ErrorMessage: "x" } });
    expect(readInvocationOutcome({ kind: "returned", payload: '{"errorType":"Error","errorMessage":"boom"}', functionError: "Unhandled" })).toMatchObject({ kind: "failed", error: { ErrorType: "Error", ErrorMessage: "boom" } });
    expect(readInvocationOutcome({ kind: "returned", payload: '"hello"' }).kind).toBe("failed");
    expect(readInvocationOutcome({ kind: "refused", throttled: true, message: "Rate Exceeded." })).toEqual({ kind: "throttled", pooled: false });
    expect(readInvocationOutcome({ kind: "refused", throttled: true, message: "Rate Exceeded.", reason: "ConcurrentInvocationLimitExceeded" })).toEqual({ kind: "throttled", pooled: true });
    expect(readInvocationOutcome({ kind: "refused", throttled: true, message: "Rate Exceeded.", reason: "ReservedFunctionConcurrentInvocationLimitExceeded" })).toEqual({ kind: "throttled", pooled: false });
  });
});

describe("retry after a throttled invocation", () => {
  it("backs off exponentially up to the cap, with half of each delay random", () => {
    expect(throttleRetryDelayMs(1, () => 0)).toBe(THROTTLE_RETRY_BASE_MS / 2);
    expect(throttleRetryDelayMs(1, () => 1)).toBe(THROTTLE_RETRY_BASE_MS);
    expect(throttleRetryDelayMs(3, () => 1)).toBe(THROTTLE_RETRY_BASE_MS * 4);
    expect(throttleRetryDelayMs(20, () => 1)).toBe(THROTTLE_RETRY_CAP_MS);
    expect(throttleRetryDelayMs(1_000, () => 0)).toBe(THROTTLE_RETRY_CAP_MS / 2);
  });

  it("waits longer before the fallback retry of an execution queued for a slot, with the same cap", () => {
    expect(slotWaitFallbackMs(1, () => 0)).toBe(SLOT_WAIT_FALLBACK_BASE_MS / 2);
    expect(slotWaitFallbackMs(1, () => 1)).toBe(SLOT_WAIT_FALLBACK_BASE_MS);
    expect(slotWaitFallbackMs(1, () => 0)).toBeGreaterThan(throttleRetryDelayMs(1, () => 1));
    expect(slotWaitFallbackMs(10, () => 1)).toBe(THROTTLE_RETRY_CAP_MS);
  });
});
