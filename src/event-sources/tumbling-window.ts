/**
 * Tumbling windows of stream mappings (TumblingWindowInSeconds), as Lambda
 * runs them for Kinesis sources. Pure: the StreamPoller object stores the
 * open window and its state with its cursor. Sources for each rule, the
 * Lambda developer guide's "Time windows" section of "Using AWS Lambda with
 * Amazon Kinesis" (services-kinesis-windows), cited below as [guide]:
 *
 * - Windows are fixed, non-overlapping intervals; a record belongs to the
 *   window of its arrival time ("Lambda determines tumbling window boundaries
 *   based on the time when records were inserted into the stream" [guide]).
 *   Boundaries are multiples of the window length since the epoch, as the
 *   guide's example (120 s: 07:04:00–07:06:00) shows.
 * - Each invocation gets `window`, `state`, `shardId`, `eventSourceARN`,
 *   `isFinalInvokeForWindow`, `isWindowTerminatedEarly` besides `Records`
 *   (KinesisTimeWindowEvent [guide]); a batch holds the records of one window.
 * - The response must contain `state`, else the invocation failed
 *   (TimeWindowEventResponse [guide]); the next invocation in the window gets it.
 * - At the end of the window a final invocation with `isFinalInvokeForWindow:
 *   true` gets the state; after it succeeds the state is dropped; while it
 *   fails the shard waits ("suspends further processing until a successful
 *   invocation" [guide]). It carries no records: every record was aggregated
 *   by the invocations before it. A window with no successful invocation
 *   (every batch discarded) gets none: there is no state to report.
 * - State up to 1 MB per shard; beyond, "Lambda terminates the window early"
 *   [guide]: a final invocation with `isWindowTerminatedEarly: true`, after
 *   which the next invocation "will continue the same window with a fresh
 *   state" (the field's description in AWS's event libraries, e.g.
 *   aws_lambda_events' TimeWindowProperties). Which state that final
 *   invocation gets is not documented: cellfn gives it the last state that
 *   fitted and runs the batch that overflowed again with a fresh one.
 * - Retries (MaximumRetryAttempts, MaximumRecordAgeInSeconds) apply as without
 *   windows ("Tumbling windows fully support the existing retry policies" [guide]).
 * - No ParallelizationFactor above 1: state is per shard, and "you are not
 *   allowed to have concurrent batch processing with parallelization factor
 *   if you enable tumbling windows" (Solita's Kinesis guide, part 2, 2020;
 *   also terraform-aws-lambda issue 619). AWS's exact message is not published.
 */

/** "Your state can be a maximum of 1 MB per shard" [guide]. */
export const WINDOW_STATE_MAX_BYTES = 1024 * 1024;

export interface WindowBounds {
  startMs: number;
  endMs: number;
}

/** The shard's open window: its bounds, the state the last invocation returned, and a final invocation owed. */
export interface OpenWindow extends WindowBounds {
  /** JSON text of the state ("{}" when the window opened). */
  state: string;
  /** Successful invocations since the state was fresh. */
  invocations: number;
  /** A final invocation is due before anything else: at the window's end, or early when the state grew too big. */
  closing?: "end" | "early";
}

/** The window a record that arrived at `arrivalMs` belongs to. */
export function windowOf(arrivalMs: number, windowS: number): WindowBounds {
  const length = windowS * 1000;
  const startMs = Math.floor(arrivalMs / length) * length;
  return { startMs, endMs: startMs + length };
}

/** How many of `arrivalsMs` (in shard order) fall in the window of the first: a batch never spans two windows. */
export function sameWindowCount(arrivalsMs: number[], windowS: number): number {
  const first = arrivalsMs[0];
  if (first === undefined) return 0;
  const { endMs } = windowOf(first, windowS);
  const index = arrivalsMs.findIndex((ms) => ms >= endMs);
  return index < 0 ? arrivalsMs.length : index;
}

/**
 * Whether the open window is over and its final invocation is due:
 * the next unprocessed record belongs to a later window, or there is none and
 * the window's end has passed (`readAtMs` taken before the shard was read, so
 * no record of the window can still arrive after the read).
 */
export function windowEnded(open: WindowBounds, nextArrivalMs: number | undefined, readAtMs: number): boolean {
  if (nextArrivalMs !== undefined) return nextArrivalMs >= open.endMs;
  return readAtMs >= open.endMs;
}

/** ISO 8601 without milliseconds, as the guide's `window` ("2020-12-09T07:04:00Z"). */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export interface WindowEventContext {
  shardId: string;
  streamArn: string;
}

/** The fields an invocation in a window adds to `Records` (KinesisTimeWindowEvent [guide]), in the guide's order. */
export function windowFields(open: OpenWindow, ctx: WindowEventContext, final: boolean): string {
  return [
    `"window":${JSON.stringify({ start: isoSeconds(open.startMs), end: isoSeconds(open.endMs) })}`,
    `"state":${open.state}`,
    `"shardId":${JSON.stringify(ctx.shardId)}`,
    `"eventSourceARN":${JSON.stringify(ctx.streamArn)}`,
    `"isFinalInvokeForWindow":${final}`,
    `"isWindowTerminatedEarly":${final && open.closing === "early"}`,
  ].join(",");
}

/** A window event: `recordsJson` is the JSON array of the batch's records ("[]" for a final invocation). */
export function windowEvent(recordsJson: string, open: OpenWindow, ctx: WindowEventContext, final: boolean): string {
  return `{"Records":${recordsJson},${windowFields(open, ctx, final)}}`;
}

const encoder = new TextEncoder();

/** Bytes the window fields add to an event (to keep the whole within the invoke payload limit). */
export function windowOverheadBytes(open: OpenWindow, ctx: WindowEventContext): number {
  return encoder.encode(windowFields({ ...open, closing: "early" }, ctx, true)).length + 1;
}

/** The `state` of a function's response as JSON text; null when there is none (the invocation failed [guide]). */
export function responseState(payload: string): string | null {
  let response: unknown;
  try {
    response = JSON.parse(payload);
  } catch {
    return null;
  }
  if (response === null || typeof response !== "object" || Array.isArray(response)) return null;
  const state = (response as { state?: unknown }).state;
  // Lambda's state is a map (Java: Map<String, String>; Go/Rust: a map): an object, never null or a scalar.
  if (state === null || typeof state !== "object" || Array.isArray(state)) return null;
  return JSON.stringify(state);
}

export type StateOutcome =
  /** Keep this window (with the new state) for the next invocation. */
  | { kind: "kept"; open: OpenWindow }
  /**
   * The state would pass WINDOW_STATE_MAX_BYTES: the window terminates early.
   * Its final invocation gets the last state that fitted, and the batch runs
   * again afterwards with a fresh state (nothing is aggregated twice into one state).
   */
  | { kind: "terminate-early"; open: OpenWindow }
  /** The batch alone makes a fresh state too big: a failed invocation (retried, bisected or discarded as any). */
  | { kind: "too-large"; bytes: number };

/**
 * The open window after an invocation of its records returned `state`.
 * "Your state can be a maximum of 1 MB per shard. If it exceeds that size,
 * Lambda terminates the window early" [guide].
 */
export function afterBatch(open: OpenWindow, state: string): StateOutcome {
  const bytes = encoder.encode(state).length;
  if (bytes <= WINDOW_STATE_MAX_BYTES) return { kind: "kept", open: { ...open, state, invocations: open.invocations + 1 } };
  if (open.invocations === 0) return { kind: "too-large", bytes };
  return { kind: "terminate-early", open: { ...open, closing: "early" } };
}

/** The message of a failed invocation whose state is too big by itself. */
export function stateTooLargeMessage(bytes: number): string {
  return `PROBLEM: Function returned a state of ${bytes} bytes, over the ${WINDOW_STATE_MAX_BYTES}-byte limit of a tumbling window.`;
}

/**
 * What follows a successful final invocation: the window is gone at its end
 * (null: the next record opens its own window with a fresh state); after an
 * early termination the same window goes on with a fresh state.
 */
export function afterFinal(open: OpenWindow): OpenWindow | null {
  if (open.closing !== "early") return null;
  return { startMs: open.startMs, endMs: open.endMs, state: "{}", invocations: 0 };
}

/** A window opened by the record that arrived at `arrivalMs`, with an empty state. */
export function openWindow(arrivalMs: number, windowS: number): OpenWindow {
  return { ...windowOf(arrivalMs, windowS), state: "{}", invocations: 0 };
}
