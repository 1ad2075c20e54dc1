/**
 * The SQS side of a mapping's poller: lanes that each run batches back to
 * back for the length of one alarm (a "round"), so that a message never waits
 * for a round to end, and that grow with the traffic.
 *
 * One lane always waits on the queue (a long poll): it answers as soon as a
 * message arrives. A lane that receives messages starts another lane before
 * it invokes the function, when no other lane is waiting on the queue (up to
 * the mapping's concurrency), so a message sent while batches run is taken at
 * once instead of waiting for a batch to finish. A lane whose receive comes
 * back empty ends when another lane is waiting on the queue; the lanes in use
 * follow the traffic, as Lambda's pollers scale with the queue (without its
 * minute-by-minute ramp; one object carries at most LANES_MAX lanes). Each
 * lane invokes at most one batch at a time, so lanes ≤ MaximumConcurrency
 * caps concurrent invocations. A batch's deletes are sent once its outcome is
 * known, before the lane receives again. Lanes read the mapping again before each
 * batch, so an update, a disable or a delete takes effect at the next batch.
 *
 * `beforeBatch`, `startsStandby` and `nextStep` are the pure rules;
 * `runLanes` applies them.
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
/** The waiting lane's long poll: it answers as soon as a message arrives. */
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
  /** Poll again (after `pauseMs`). */
  | { kind: "again"; pauseMs: number; result?: string }
  /** This lane ends; the others go on. */
  | { kind: "exit" }
  /** The whole round ends; the next alarm comes after `delayMs`. */
  | { kind: "end-round"; delayMs: number; result?: string };

/** What the other lanes of the round are doing when a lane decides. */
export interface OtherLanes {
  /** Lanes running besides this one. */
  running: number;
  /** Of those, lanes waiting on the queue (in a receive) right now. */
  polling: number;
}

export function lanesFor(record: MappingRecord): number {
  return Math.max(1, Math.min(record.settings.maximumConcurrency ?? DEFAULT_LANES, LANES_MAX));
}

/** A lane that received messages starts one more lane, to wait on the queue while it invokes, when no other lane waits and the concurrency allows. */
export function startsStandby(others: OtherLanes, limit: number): boolean {
  return others.polling === 0 && others.running + 1 < limit;
}

/** What a lane does before its next batch. */
export type BeforeBatch =
  /** Receive, waiting up to `waitSeconds` for a message. */
  | { kind: "poll"; waitSeconds: number }
  /** This lane ends. */
  | { kind: "leave" }
  /** Wait `ms` (a throttle's backoff), then decide again. */
  | { kind: "pause"; ms: number };

/**
 * Before each batch: lanes beyond the mapping's concurrency (it went down)
 * end; while a throttle's backoff runs, only one lane stays (and waits it
 * out), so a throttled function is probed by one batch at a time and no
 * message is received (and counted towards its maxReceiveCount) for a batch
 * that cannot run; otherwise the one lane waiting on the queue long-polls
 * and the others only look (0), never past the round.
 */
export function beforeBatch(others: OtherLanes, limit: number, msLeftInRound: number, backoffLeftMs: number): BeforeBatch {
  if (others.running + 1 > limit) return { kind: "leave" };
  if (backoffLeftMs > 0) return others.running > 0 ? { kind: "leave" } : { kind: "pause", ms: backoffLeftMs };
  if (others.polling > 0) return { kind: "poll", waitSeconds: 0 };
  return { kind: "poll", waitSeconds: Math.min(LONG_POLL_S, Math.max(0, Math.floor(msLeftInRound / 1000))) };
}

export function nextStep(others: OtherLanes, outcome: BatchOutcome): LaneStep {
  switch (outcome.kind) {
    case "empty":
      // One lane keeps waiting on the queue; the rest end.
      return others.polling > 0 ? { kind: "exit" } : { kind: "again", pauseMs: 0 };
    case "throttled":
      // Nothing ran: the messages reappear after their visibility timeout. One lane keeps probing, slowly.
      // (runLanes records THROTTLED_RESULT for every throttled batch, whichever lane goes on.)
      return others.running > 0 ? { kind: "exit" } : { kind: "again", pauseMs: THROTTLE_BACKOFF_MS };
    case "refused":
      return { kind: "end-round", delayMs: REFUSED_BACKOFF_MS, result: outcome.reason };
    case "done":
      return { kind: "again", pauseMs: 0, result: outcome.result };
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

/**
 * Runs lanes until `roundEndsAt` (or until one ends the round), then returns
 * when every batch in flight has finished. The counters change only in synchronous steps, so two lanes
 * never both decide to be the last.
 */
export async function runLanes(host: LaneHost, queues: TenantQueues, region: string, roundEndsAt: number): Promise<RoundEnd> {
  let end: RoundEnd | undefined;
  let running = 0;
  let polling = 0;
  /** Until when a throttle's backoff runs (one lane probes). */
  let backoffUntil = 0;
  const pending = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    pending.add(work);
    const done = () => void pending.delete(work);
    work.then(done, done);
  };
  // A deciding lane's view of the others: it counts itself in `running` (and is out of `polling` by then).
  const others = (): OtherLanes => ({ running: running - 1, polling });
  // A lane leaves in the same synchronous step as its decision to, so two lanes never both count on the other.
  const leave = () => {
    running--;
    return false;
  };

  /** One batch of a lane; false once the lane has left. */
  const batch = async (): Promise<boolean> => {
    const record = await host.current();
    if (!record || record.state !== "Enabled" || record.source.kind !== "sqs") return leave();
    const now = Date.now();
    const before = beforeBatch(others(), lanesFor(record), roundEndsAt - now, backoffUntil - now);
    if (before.kind === "leave") return leave();
    if (before.kind === "pause") {
      await sleep(Math.min(before.ms, Math.max(0, roundEndsAt - now)));
      return true;
    }
    polling++;
    let receiving = true;
    const stopReceiving = () => {
      if (!receiving) return false;
      receiving = false;
      polling--;
      return true;
    };
    // The messages are in hand: another lane waits on the queue while this one invokes.
    const received = () => {
      if (stopReceiving() && startsStandby(others(), lanesFor(record))) start();
    };
    let outcome: BatchOutcome;
    try {
      outcome = await pollBatch(queues, record, record.source.queueName, region, before.waitSeconds, { received });
    } catch (err) {
      stopReceiving();
      if (err instanceof SqsError && err.type === "QueueDoesNotExist") end ??= { delayMs: 0, disable: QUEUE_GONE_RESULT };
      else {
        console.error(`event source mapping ${record.uuid}: poll failed`, err);
        end ??= { delayMs: ERROR_BACKOFF_MS };
      }
      return leave();
    }
    stopReceiving();
    if (outcome.kind === "throttled") {
      backoffUntil = Date.now() + THROTTLE_BACKOFF_MS;
      await host.report(THROTTLED_RESULT);
    }
    const step = nextStep(others(), outcome);
    if (step.kind === "exit") return leave();
    if (step.kind === "end-round") end ??= { delayMs: step.delayMs };
    if (step.result !== undefined) await host.report(step.result);
    if (step.kind === "end-round") return leave();
    if (step.pauseMs > 0) await sleep(step.pauseMs);
    return true;
  };

  const lane = async (): Promise<void> => {
    for (;;) {
      if (end !== undefined || Date.now() >= roundEndsAt) {
        leave();
        return;
      }
      let going: boolean;
      try {
        going = await batch();
      } catch (err) {
        // Reading or recording the mapping failed: the round ends, the next alarm tries again.
        leave();
        console.error("event source mapping: lane failed", err);
        end ??= { delayMs: ERROR_BACKOFF_MS };
        return;
      }
      if (!going) return;
    }
  };

  const start = () => {
    running++;
    track(lane());
  };

  start();
  while (pending.size > 0) await Promise.all([...pending]);
  return end ?? { delayMs: 0 };
}
