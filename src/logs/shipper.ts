/**
 * Ships invocation logs to their log group off the invoke's hot path: lines
 * are buffered in this isolate per (tenant, log group) and written in one
 * Durable Object call per group every LOG_FLUSH_MS, under the waitUntil of
 * the invocation that started the batch. One call per invocation would cost
 * each warm invoke an RPC's worth of CPU; a batch costs it a few array pushes.
 */
import { logGroupObject } from "./groups";

/** How long lines wait in this isolate before they are written. */
export const LOG_FLUSH_MS = 100;

interface Batch {
  tenantId: string;
  logGroup: string;
  streams: Map<string, Array<{ timestamp: number; message: string }>>;
}

const pending = new Map<string, Batch>();

/** A console line starts with its ISO time; START/END/REPORT lines are stamped `now`. */
function timestampOf(line: string, now: number): number {
  const t = line.charCodeAt(4) === 45 /* - */ ? Date.parse(line.slice(0, 24)) : NaN;
  return Number.isNaN(t) ? now : t;
}

export function shipInvocationLog(
  env: Env,
  entry: { tenantId: string; logGroup: string; logStream: string; lines: readonly string[] },
  waitUntil: (promise: Promise<unknown>) => void,
): void {
  if (entry.lines.length === 0) return;
  const key = `${entry.tenantId}\u0000${entry.logGroup}`;
  let batch = pending.get(key);
  if (!batch) {
    const created: Batch = { tenantId: entry.tenantId, logGroup: entry.logGroup, streams: new Map() };
    pending.set(key, created);
    waitUntil(flushLater(env, key, created));
    batch = created;
  }
  const now = Date.now();
  let events = batch.streams.get(entry.logStream);
  if (!events) batch.streams.set(entry.logStream, (events = []));
  for (const line of entry.lines) events.push({ timestamp: timestampOf(line, now), message: line });
}

async function flushLater(env: Env, key: string, batch: Batch): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, LOG_FLUSH_MS));
  pending.delete(key);
  const batches = [...batch.streams].map(([stream, events]) => ({ stream, events }));
  try {
    await logGroupObject(env, batch.tenantId, batch.logGroup).appendBatches(batches, Date.now(), { tenantId: batch.tenantId, name: batch.logGroup });
  } catch (error) {
    // The invocations have answered already; losing their log lines must not fail anything else.
    console.error(`logs: could not store ${batches.length} stream batch(es) of ${batch.logGroup}`, error);
  }
}
