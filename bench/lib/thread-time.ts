/**
 * A closed loop of clients sending one kind of request, and what it cost the
 * workerd thread that answered it (bench:refusal-cost, bench:invoke-cost).
 * Under `wrangler dev` one thread per workerd process runs every request,
 * isolate and Durable Object; the busiest workerd main thread over the loop
 * is the measured Worker's (bench/lib/proc.ts).
 */
import type http from "node:http";
import { requestLocal } from "./http";
import { busiestWorkerdShare, workerdMainThreadJiffies } from "./proc";

export interface LoopRequest {
  port: number;
  method: string;
  /** `worker`: the client's index (0..concurrency-1). */
  path(worker: number): string;
  headers: Record<string, string>;
  body: string;
}

export interface ThreadTimedLoop {
  /** Answers by status. */
  statuses: Record<number, number>;
  seconds: number;
  /** The busiest workerd main thread's busy time over the loop. */
  busySeconds: number;
}

/** `concurrency` clients sending `request` back to back for `seconds` over `agent`. */
export async function threadTimedLoop(agent: http.Agent, concurrency: number, seconds: number, request: LoopRequest): Promise<ThreadTimedLoop> {
  const statuses: Record<number, number> = {};
  const before = workerdMainThreadJiffies();
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < end) {
        const reply = await requestLocal(agent, request.port, request.method, request.path(worker), request.headers, request.body, 30_000);
        statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { statuses, seconds: elapsed, busySeconds: busiestWorkerdShare(before, workerdMainThreadJiffies(), elapsed) * elapsed };
}
