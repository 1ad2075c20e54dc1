/**
 * The chaos run's functions. One CommonJS source for the plain ones (the
 * KIND variable picks the role) and one durable workflow bundled with the
 * real @aws/durable-execution-sdk-js. Every side effect is reported to the
 * collector (bench/chaos/collector.ts) before the handler returns, so a
 * record there means "the handler ran this far" and nothing else.
 */
import { strToU8, zipSync } from "fflate";
import { bundled } from "../../test/e2e/bundle";

/** How an event asks its handler to misbehave. */
export const FAILURE_MODES = ["throw", "exit", "crash", "timeout"] as const;
export type Mode = "ok" | (typeof FAILURE_MODES)[number];

const PLAIN = `
const COLLECTOR = process.env.COLLECTOR;
async function mark(kind, ids) {
  if (ids.length === 0) return;
  const res = await fetch(COLLECTOR + "/mark/" + kind, { method: "POST", body: JSON.stringify(ids) });
  if (!res.ok) throw new Error("collector answered " + res.status);
}
async function misbehave(mode) {
  if (mode === "throw") throw new Error("chaos: the handler fails on purpose");
  // Ends the process the way a Node handler can (the shim reports Runtime.ExitError).
  if (mode === "exit") process.exit(3);
  // An exception nobody catches, thrown outside the handler's promise.
  if (mode === "crash") { setTimeout(() => { throw new Error("chaos: uncaught exception"); }, 0); await new Promise((r) => setTimeout(r, 5000)); return; }
  // Runs past the function's timeout (waiting, not spinning: see README on CPU-bound code).
  if (mode === "timeout") { await new Promise((r) => setTimeout(r, 60000)); return; }
}
const roles = {
  async sync(event) {
    if (event.mode !== "ok") await misbehave(event.mode);
    await mark("sync", [event.id]);
    return { id: event.id };
  },
  async async(event) {
    if (event.mode !== "ok") await misbehave(event.mode);
    await mark("async", [event.id]);
    return { id: event.id };
  },
  async sqs(event) {
    const parsed = event.Records.map((r) => ({ messageId: r.messageId, body: JSON.parse(r.body) }));
    await mark("sqs", parsed.filter((r) => !r.body.poison).map((r) => r.body.id));
    return { batchItemFailures: parsed.filter((r) => r.body.poison).map((r) => ({ itemIdentifier: r.messageId })) };
  },
  async kinesis(event) {
    const records = event.Records.map((r) => JSON.parse(Buffer.from(r.kinesis.data, "base64").toString("utf8")));
    // One poison record fails its whole batch: bisection has to find it.
    if (records.some((r) => r.poison)) throw new Error("chaos: poison record in the batch");
    await mark("kinesis", records.map((r) => r.id));
  },
};
exports.handler = (event, context) => roles[process.env.KIND](event, context);
`;

const WORKFLOW = `
const { withDurableExecution } = require("@aws/durable-execution-sdk-js");
async function mark(id) {
  const res = await fetch(process.env.COLLECTOR + "/mark/durable", { method: "POST", body: JSON.stringify([id]) });
  if (!res.ok) throw new Error("collector answered " + res.status);
}
exports.handler = withDurableExecution(async (event, ctx) => {
  await ctx.step("a", async () => { await mark(event.id + ":a"); return 1; });
  await ctx.wait("pause", { seconds: event.waitSeconds });
  await ctx.step("b", async () => { await mark(event.id + ":b"); return 2; });
  return { id: event.id };
});
`;

const MTIME = new Date("2024-01-01T00:00:00Z");
const zipOf = (source: string) => zipSync({ "index.js": [strToU8(source), { mtime: MTIME }] });

export function plainZip(): Uint8Array {
  return zipOf(PLAIN);
}

export async function durableZip(): Promise<Uint8Array> {
  return zipOf(await bundled(WORKFLOW));
}
