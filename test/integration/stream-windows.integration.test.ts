import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { StreamPoller } from "../../src/event-sources/stream-poller-object";
import { awsJson, newTenant, signed } from "../helpers/platform";
import type { TenantKey } from "../helpers/platform";
import { ESM, makeFunction, makeStream, map, put, shardStatus, streamArnOf, until } from "../helpers/streams";

// Tumbling windows (TumblingWindowInSeconds) of a Kinesis mapping, in workerd:
// a handler sums its records' values into the window's state; each window
// ends with a final invocation (no records, isFinalInvokeForWindow) holding
// the window's total, and the next window starts from an empty state. A
// failed batch is retried from the state before it (no value counted twice),
// and the state survives the poller object's eviction.

interface Invocation {
  window: { start: string; end: string };
  state: { sum?: number };
  values: number[];
  arrivals: number[];
  final: boolean;
  early: boolean;
  shardId: string;
  eventSourceARN: string;
}

const SUMMING_HANDLER = `
let failedOnce = false;
exports.handler = async (event) => {
  const values = event.Records.map((r) => JSON.parse(atob(r.kinesis.data)));
  console.log("WIN " + JSON.stringify({
    window: event.window, state: event.state, values: values.map((v) => v.v),
    arrivals: event.Records.map((r) => r.kinesis.approximateArrivalTimestamp),
    final: event.isFinalInvokeForWindow, early: event.isWindowTerminatedEarly,
    shardId: event.shardId, eventSourceARN: event.eventSourceARN,
  }));
  if (!failedOnce && values.some((v) => v.flaky)) { failedOnce = true; throw new Error("flaky batch"); }
  if (event.isFinalInvokeForWindow) return { state: event.state };
  return { state: { sum: (event.state.sum ?? 0) + values.reduce((s, v) => s + v.v, 0) } };
};`;

async function invocations(key: TenantKey, name: string): Promise<Invocation[]> {
  const res = await awsJson(key, "logs", "Logs_20140328.FilterLogEvents", { logGroupName: `/aws/lambda/${name}` });
  if (res.status !== 200) return [];
  const events = (res.body.events as { message: string; timestamp: number }[]).slice().sort((a, b) => a.timestamp - b.timestamp);
  return events.filter((e) => e.message.includes("\tWIN ")).map((e) => JSON.parse(e.message.slice(e.message.indexOf("\tWIN ") + 5)) as Invocation);
}

const finals = (seen: Invocation[]) => seen.filter((i) => i.final);

describe("tumbling windows", () => {
  it("sums records per window through the state, ends each window with a final invocation, starts the next from an empty state", async () => {
    const key = await newTenant();
    const name = await makeFunction(key, "window", SUMMING_HANDLER);
    const stream = await makeStream(key, "window", 1);
    const arn = streamArnOf(key, stream);
    // Window A: 1..7, one of them failing its first batch once.
    await put(key, stream, [1, 2, 3, 4, 5, 6, 7].map((v) => ({ data: JSON.stringify(v === 5 ? { v, flaky: true } : { v }), key: `k${v % 2}` })));
    const uuid = await map(key, { FunctionName: name, EventSourceArn: arn, StartingPosition: "TRIM_HORIZON", BatchSize: 3, TumblingWindowInSeconds: 2 });
    const got = await signed(key, "GET", `${ESM}/${uuid}`);
    expect(await got.json()).toMatchObject({ TumblingWindowInSeconds: 2, ParallelizationFactor: 1 });

    // The state lives in the poller object with its checkpoint: evicting it mid-window loses nothing.
    await until("a first batch in the window", () => invocations(key, name), (seen) => seen.some((i) => !i.final && i.values.length > 0));
    await evictDurableObject(StreamPoller.of(env, key.tenantId, uuid, 0));

    const first = await until("window A's final invocation", () => invocations(key, name), (seen) => finals(seen).length >= 1);
    // Window B: put after A's window ended, so in a later window.
    await put(key, stream, [10, 20, 30, 40].map((v) => ({ data: JSON.stringify({ v }), key: "k" })));
    const seen = await until("window B's final invocation", () => invocations(key, name), (all) => finals(all).length >= 2);
    expect(finals(first)).toHaveLength(1);

    // Records come in windows of 2 s aligned to the epoch, each record in the window of its arrival.
    for (const inv of seen) {
      const start = Date.parse(inv.window.start);
      const end = Date.parse(inv.window.end);
      expect(inv.window.start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(end - start).toBe(2000);
      expect(start % 2000).toBe(0);
      for (const arrival of inv.arrivals) expect(arrival * 1000 >= start && arrival * 1000 < end).toBe(true);
      expect(inv).toMatchObject({ shardId: "shardId-000000000000", eventSourceARN: arn, early: false });
    }
    // Every window: the first invocation gets an empty state, each next one the state the previous returned,
    // the final one (no records) the window's total, and the windows' totals are the sums of their records.
    // One PutRecords call gives its records one arrival time: A and B are one window each.
    const windows = [...new Set(seen.map((i) => i.window.start))];
    expect(windows).toHaveLength(2);
    let total = 0;
    for (const start of windows) {
      const inWindow = seen.filter((i) => i.window.start === start);
      expect(inWindow[0]?.state).toEqual({});
      const final = inWindow.filter((i) => i.final);
      expect(final).toHaveLength(1);
      expect(final[0]?.values).toEqual([]);
      expect(inWindow[inWindow.length - 1]?.final).toBe(true);
      // Sum of the records each successful aggregation added: the state after the last one.
      const finalSum = final[0]?.state.sum ?? 0;
      total += finalSum;
    }
    expect(total).toBe(28 + 100);
    const lastWindow = seen.filter((i) => i.window.start === windows[windows.length - 1]);
    expect(lastWindow.flatMap((i) => i.values)).toEqual([10, 20, 30, 40]);
    expect(lastWindow[lastWindow.length - 1]?.state).toEqual({ sum: 100 });
    // The flaky batch failed (once, unless its isolate was recycled) and ran again from the state before it: 5 counted once.
    expect(seen.flatMap((i) => i.values).filter((v) => v === 5).length).toBeGreaterThanOrEqual(2);
    const status = await shardStatus(key, uuid, 0);
    expect(status.failedInvocations).toBeGreaterThanOrEqual(1);
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
  }, 120_000);

  it("a response without state fails the batch: retried per the mapping, then discarded", async () => {
    const key = await newTenant();
    const name = await makeFunction(key, "nostate", `exports.handler = async (event) => { console.log("WIN " + JSON.stringify({ values: event.Records.map((r) => atob(r.kinesis.data)), final: event.isFinalInvokeForWindow })); return {}; };`);
    const stream = await makeStream(key, "nostate", 1);
    await put(key, stream, [{ data: "1", key: "k" }]);
    const uuid = await map(key, { FunctionName: name, EventSourceArn: streamArnOf(key, stream), StartingPosition: "TRIM_HORIZON", TumblingWindowInSeconds: 1, MaximumRetryAttempts: 1 });
    await until("the batch discarded", () => shardStatus(key, uuid, 0), (s) => s.batchesDiscarded >= 1);
    // Its window ends with nothing aggregated: no final invocation (which would fail the same way, forever).
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await shardStatus(key, uuid, 0)).toMatchObject({ invocations: 2, failedInvocations: 2, recordsSucceeded: 0, batchesDiscarded: 1 });
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
  }, 60_000);

  it("a state over 1 MB terminates the window early: a final invocation with the last state that fitted, then the batch again from a fresh state", async () => {
    const key = await newTenant();
    const name = await makeFunction(
      key,
      "early",
      `exports.handler = async (event) => {
        const values = event.Records.map((r) => Number(atob(r.kinesis.data)));
        console.log("WIN " + JSON.stringify({ values, final: event.isFinalInvokeForWindow, early: event.isWindowTerminatedEarly, sum: event.state.sum ?? null, pad: (event.state.pad ?? "").length }));
        if (event.isFinalInvokeForWindow) return { state: event.state };
        // Each batch adds 600,000 bytes to the state: the second batch of a state passes 1 MB.
        return { state: { sum: (event.state.sum ?? 0) + values.reduce((s, v) => s + v, 0), pad: (event.state.pad ?? "") + "x".repeat(600000) } };
      };`,
    );
    const stream = await makeStream(key, "early", 1);
    await put(key, stream, [1, 2, 3, 4].map((v) => ({ data: String(v), key: "k" })));
    const uuid = await map(key, { FunctionName: name, EventSourceArn: streamArnOf(key, stream), StartingPosition: "TRIM_HORIZON", BatchSize: 2, TumblingWindowInSeconds: 2 });
    type Early = { values: number[]; final: boolean; early: boolean; sum: number | null; pad: number };
    const logged = async () => (await invocations(key, name)) as unknown as Early[];
    const seen = await until("the window's last final invocation", logged, (all) => all.filter((i) => i.final).length >= 2);
    expect(seen).toEqual([
      { values: [1, 2], final: false, early: false, sum: null, pad: 0 },
      { values: [3, 4], final: false, early: false, sum: 3, pad: 600_000 },
      { values: [], final: true, early: true, sum: 3, pad: 600_000 },
      { values: [3, 4], final: false, early: false, sum: null, pad: 0 },
      { values: [], final: true, early: false, sum: 7, pad: 600_000 },
    ]);
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
  }, 60_000);

  it("ReportBatchItemFailures: the state returned with the failures is kept and the batch resumes from the lowest reported record", async () => {
    const key = await newTenant();
    const name = await makeFunction(
      key,
      "partial",
      `let reported = false;
      exports.handler = async (event) => {
        const records = event.Records.map((r) => ({ v: Number(atob(r.kinesis.data)), seq: r.kinesis.sequenceNumber }));
        console.log("WIN " + JSON.stringify({ values: records.map((r) => r.v), final: event.isFinalInvokeForWindow, state: event.state }));
        if (event.isFinalInvokeForWindow) return { state: event.state };
        let sum = event.state.sum ?? 0;
        for (const r of records) {
          // Value 3 fails the first time: the state holds what came before it.
          if (r.v === 3 && !reported) { reported = true; return { state: { sum }, batchItemFailures: [{ itemIdentifier: r.seq }] }; }
          sum += r.v;
        }
        return { state: { sum } };
      };`,
    );
    const stream = await makeStream(key, "partial", 1);
    await put(key, stream, [1, 2, 3, 4].map((v) => ({ data: String(v), key: "k" })));
    const uuid = await map(key, {
      FunctionName: name,
      EventSourceArn: streamArnOf(key, stream),
      StartingPosition: "TRIM_HORIZON",
      TumblingWindowInSeconds: 2,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
    type Partial = { values: number[]; final: boolean; state: { sum?: number } };
    const seen = await until("the final invocation", async () => (await invocations(key, name)) as unknown as Partial[], (all) => all.some((i) => i.final));
    expect(seen).toEqual([
      { values: [1, 2, 3, 4], final: false, state: {} },
      { values: [3, 4], final: false, state: { sum: 3 } },
      { values: [], final: true, state: { sum: 10 } },
    ]);
    expect((await signed(key, "DELETE", `${ESM}/${uuid}`)).status).toBe(202);
  }, 60_000);
});
