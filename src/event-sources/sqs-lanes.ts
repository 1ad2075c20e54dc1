/**
 * The SQS side of a mapping's poller: lanes that each run batches back to
 * back for the length of one alarm (a "round"), so that a message never waits
 * for a round to end, and that grow with the backlog.
 *
 * Lane 0 always runs and long-polls: it wakes as soon as a message arrives.
 * A lane whose batch came back full starts one more lane (up to the mapping's
 * concurrency), and every lane but lane 0 stops at its first empty receive:
 * the lanes in use follow the backlog, as Lambda's pollers scale with the
 * queue (without its minute-by-minute ramp; one object carries at most
 * LANES_MAX lanes). Lanes read the mapping again before each batch, so an
 * update, a disable or a delete takes effect at the next batch.
 *
 * `nextStep` is the pure rule; `runLanes` applies it.
 */
import { SqsError } from "../sqs/errors";
import type { TenantQueues } from "../sqs/queues";
import type { MappingRecord } from "./mapping";
import type { BatchOutcome } from "./poll-batch";
import { pollBatch } from "./poll-batch";

/** Batches one mapping runs side by side when it has no ScalingConfig. */
export const DEFAULT_LANES = 2;
/** Lanes one poller object runs at most, whatever MaximumConcurrency says. */
export const LANES_MAX = 10;
/** Lane 0's long poll: it answers as soon as a message arrives. */
export const LONG_POLL_S = 5;
/** How long one alarm runs its lanes before it hands over to the next alarm. */
export const ROUND_MS = 20_000;
export const THROTTLE_BACKOFF_MS = 1_000;
export const REFUSED_BACKOFF_MS = 10_000;
export const ERROR_BACKOFF_MS = 5_000;
export const THROTTLED_RESULT = "PROBLEM: Function call throttled";
export const QUEUE_GONE_RESULT = "PROBLEM: The event source queue does not exist.";

/** What a lane does after a batch. */
export type LaneStep =
  /** Poll again at once (after `pauseMs`), and start one more lane when `grow`. */
  | { kind: "again"; pauseMs: number; grow: boolean; result?: string }
  /** This lane ends; the others go on. */
  | { kind: "exit" }
  /** The whole round ends; the next alarm comes after `delayMs`. */
  | { kind: "end-round"; delayMs: number; result?: string };

export function lanesFor(record: MappingRecord): number {
  return Math.max(1, Math.min(record.settings.maximumConcurrency ?? DEFAULT_LANES, LANES_MAX));
}

/** `first`: the lane that always runs (and long-polls). */
export function nextStep(first: boolean, outcome: BatchOutcome): LaneStep {
  switch (outcome.kind) {
    case "empty":
      return first ? { kind: "again", pauseMs: 0, grow: false } : { kind: "exit" };
    case "throttled":
      // Nothing ran: the messages reappear after their visibility timeout. One lane keeps probing, slowly.
      return first ? { kind: "again", pauseMs: THROTTLE_BACKOFF_MS, grow: false, result: THROTTLED_RESULT } : { kind: "exit" };
    case "refused":
      return { kind: "end-round", delayMs: REFUSED_BACKOFF_MS, result: outcome.reason };
    case "done":
      return { kind: "again", pauseMs: 0, grow: outcome.full, result: outcome.result };
  }
}

export interface LaneHost {
  /** The mapping as stored now (null once deleted). */
  current(): Promise<MappingRecord | null>;
  /** Records a batch's LastProcessingResult. */
  report(result: string): Promise<void>;
}

export interface RoundEnd {
  delayMs: number;
  /** Set when the mapping must be disabled, with the reason. */
  disable?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs lanes until `roundEndsAt` (or until one ends the round), then returns when every batch in flight has finished. */
export async function runLanes(host: LaneHost, queues: TenantQueues, region: string, roundEndsAt: number): Promise<RoundEnd> {
  let end: RoundEnd | undefined;
  let active = 0;
  const running = new Set<Promise<void>>();

  const lane = async (first: boolean): Promise<void> => {
    while (end === undefined && Date.now() < roundEndsAt) {
      const record = await host.current();
      if (!record || record.state !== "Enabled" || record.source.kind !== "sqs") return;
      // The mapping's concurrency went down: the extra lanes end.
      if (!first && active > lanesFor(record)) return;
      let outcome: BatchOutcome;
      try {
        const wait = first ? Math.min(LONG_POLL_S, Math.max(0, Math.floor((roundEndsAt - Date.now()) / 1000))) : 0;
        outcome = await pollBatch(queues, record, record.source.queueName, region, wait);
      } catch (err) {
        if (err instanceof SqsError && err.type === "QueueDoesNotExist") end ??= { delayMs: 0, disable: QUEUE_GONE_RESULT };
        else {
          console.error(`event source mapping ${record.uuid}: poll failed`, err);
          end ??= { delayMs: ERROR_BACKOFF_MS };
        }
        return;
      }
      const step = nextStep(first, outcome);
      if (step.kind !== "exit" && step.result !== undefined) await host.report(step.result);
      if (step.kind === "exit") return;
      if (step.kind === "end-round") {
        end ??= { delayMs: step.delayMs };
        return;
      }
      if (step.grow && active < lanesFor(record)) start(false);
      if (step.pauseMs > 0) await sleep(step.pauseMs);
    }
  };

  const start = (first: boolean) => {
    active++;
    const run: Promise<void> = lane(first).finally(() => {
      active--;
      running.delete(run);
    });
    running.add(run);
  };

  start(true);
  while (running.size > 0) await Promise.all([...running]);
  return end ?? { delayMs: 0 };
}
