/**
 * Names and bindings of the async queues declared in wrangler.toml: per cell,
 * ASYNC_QUEUES_PER_CELL shard queues, a sideline queue, a low-priority queue
 * and a dead-letter queue.
 */

export type QueueRole = "shard" | "sideline" | "lowpri" | "dlq";

export interface AsyncLayout {
  cells: number;
  queuesPerCell: number;
  shardSize: number;
}

export function asyncLayout(env: Env): AsyncLayout {
  return {
    cells: Number(env.CELL_COUNT),
    queuesPerCell: Number(env.ASYNC_QUEUES_PER_CELL),
    shardSize: Number(env.ASYNC_SHARD_SIZE),
  };
}

export function shardQueueName(cell: number, index: number): string {
  return `cellfn-async-${cell}-${index}`;
}

export function roleQueueName(cell: number, role: Exclude<QueueRole, "shard">): string {
  return `cellfn-async-${cell}-${role}`;
}

/** Parses a queue name back into its cell and role. */
export function parseQueueName(name: string): { cell: number; role: QueueRole; index?: number } | null {
  const match = /^cellfn-async-(\d+)-(\d+|sideline|lowpri|dlq)$/.exec(name);
  if (!match) return null;
  const cell = Number(match[1]);
  const tail = match[2] ?? "";
  return /^\d+$/.test(tail) ? { cell, role: "shard", index: Number(tail) } : { cell, role: tail as QueueRole };
}

/** The producer binding of a queue, by name (bindings are ASYNC_<cell>_<index|SIDELINE|LOWPRI|DLQ>). */
export function queueBinding(env: Env, name: string): Queue {
  const parsed = parseQueueName(name);
  if (!parsed) throw new Error(`not an async queue: ${name}`);
  const suffix = parsed.role === "shard" ? String(parsed.index) : parsed.role.toUpperCase();
  const binding = (env as unknown as Record<string, unknown>)[`ASYNC_${parsed.cell}_${suffix}`];
  if (!binding || typeof (binding as Queue).send !== "function") {
    throw new Error(`queue ${name} has no producer binding ASYNC_${parsed.cell}_${suffix} in wrangler.toml`);
  }
  return binding as Queue;
}
