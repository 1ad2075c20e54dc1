import type { LambdaError } from "../errors";
import { functionNotReady, updateInProgress } from "../errors";
import type { StoredConfig } from "./function-config";

/**
 * Lambda's function states and update statuses, as a pure projection of a
 * stored version row (no bindings here).
 *
 * CreateFunction answers `State: Pending` and the code is bundled after the
 * response; the row becomes `Active` (or `Failed`) when that finishes.
 * UpdateFunctionCode / UpdateFunctionConfiguration answer
 * `LastUpdateStatus: InProgress` and become `Successful` (or `Failed`).
 * The work runs under ExecutionContext.waitUntil; if the isolate dies before
 * it ends, nothing would ever settle the row, so a transition older than
 * TRANSITION_TIMEOUT_MS is read as failed and no longer blocks a new update.
 *
 * Wording from AWS's recorded answers (LocalStack snapshot
 * tests/aws/services/lambda_/test_lambda_api.snapshot.json and real CLI
 * output): CreateFunction `"State": "Pending", "StateReason": "The function is
 * being created.", "StateReasonCode": "Creating"` with no LastUpdateStatus;
 * an update answers `"State": "Active", "LastUpdateStatus": "InProgress",
 * "LastUpdateStatusReason": "The function is being created.",
 * "LastUpdateStatusReasonCode": "Creating"` (AWS says "created" for updates too).
 */

/** Longer than a Worker's waitUntil can run after its response (30 s), with margin. */
export const TRANSITION_TIMEOUT_MS = 5 * 60_000;
export const CREATING_REASON = "The function is being created.";
export const CREATING_CODE = "Creating";
const ABANDONED_REASON = "The function's code build did not finish. Update the function code to try again.";
const ABANDONED_CODE = "InternalError";

export type FunctionState = "Pending" | "Active" | "Failed";
export type UpdateStatus = "InProgress" | "Successful" | "Failed";

/** What an update in progress will make of $LATEST once it succeeds. */
export interface PendingUpdate {
  config: StoredConfig;
  codeSha256: string;
  codeSize: number;
  lastModified: string;
}

/** The state columns of a function_versions row. */
export interface StateColumns {
  state: FunctionState;
  stateReason: string | null;
  stateReasonCode: string | null;
  lastUpdateStatus: UpdateStatus | null;
  lastUpdateStatusReason: string | null;
  lastUpdateStatusReasonCode: string | null;
  pendingUpdate: unknown;
  transitionStartedAt: number | null;
}

/** The state fields of FunctionConfiguration, in AWS's order, and the pending update to show. */
export interface ShownState {
  fields: Record<string, string>;
  pending: PendingUpdate | undefined;
}

/** The state as the API shows it at `nowMs`: an abandoned transition reads as failed. */
export function shownState(row: StateColumns, nowMs: number): ShownState {
  const abandoned = isAbandoned(row, nowMs);
  if (row.state === "Pending") {
    if (abandoned) return { fields: failedFields(ABANDONED_REASON, ABANDONED_CODE), pending: undefined };
    return { fields: { State: "Pending", StateReason: CREATING_REASON, StateReasonCode: CREATING_CODE }, pending: undefined };
  }
  const fields: Record<string, string> = { State: row.state };
  if (row.stateReason !== null) fields.StateReason = row.stateReason;
  if (row.stateReasonCode !== null) fields.StateReasonCode = row.stateReasonCode;
  if (row.lastUpdateStatus === "InProgress") {
    if (abandoned) return { fields: { ...fields, ...updateFailedFields(ABANDONED_REASON, ABANDONED_CODE) }, pending: undefined };
    return {
      fields: { ...fields, LastUpdateStatus: "InProgress", LastUpdateStatusReason: CREATING_REASON, LastUpdateStatusReasonCode: CREATING_CODE },
      pending: row.pendingUpdate as PendingUpdate | undefined,
    };
  }
  if (row.lastUpdateStatus !== null) fields.LastUpdateStatus = row.lastUpdateStatus;
  if (row.lastUpdateStatusReason !== null) fields.LastUpdateStatusReason = row.lastUpdateStatusReason;
  if (row.lastUpdateStatusReasonCode !== null) fields.LastUpdateStatusReasonCode = row.lastUpdateStatusReasonCode;
  return { fields, pending: undefined };
}

/**
 * Why an update (UpdateFunctionCode / Configuration, PublishVersion) must
 * wait, or null: AWS answers 409 ResourceConflictException while the
 * function is being created or updated.
 */
export function updateBlocker(row: StateColumns, functionArn: string, nowMs: number): LambdaError | null {
  if (isAbandoned(row, nowMs)) return null;
  if (row.state === "Pending") return functionNotReady("Pending");
  if (row.lastUpdateStatus === "InProgress") return updateInProgress(functionArn);
  return null;
}

/**
 * Why an invocation of this version cannot run, or null. For the invoke path
 * to call before it runs the version's bundle: a Pending function has no
 * bundle yet and a Failed one never got one (AWS: 409 "The operation cannot
 * be performed at this time. The function is currently in the following
 * state: Pending"). An update in progress does not block: as on AWS,
 * invocations run the previous code and configuration until it succeeds.
 */
export function invokeBlocker(row: StateColumns, nowMs: number): LambdaError | null {
  if (row.state === "Active") return null;
  if (row.state === "Pending" && isAbandoned(row, nowMs)) return functionNotReady("Failed");
  return functionNotReady(row.state);
}

/** The state columns of a row whose create or update failed for `reason`. */
export function failedFields(reason: string, code: string): Record<string, string> {
  return { State: "Failed", StateReason: reason, StateReasonCode: code, ...updateFailedFields(reason, code) };
}

function updateFailedFields(reason: string, code: string): Record<string, string> {
  return { LastUpdateStatus: "Failed", LastUpdateStatusReason: reason, LastUpdateStatusReasonCode: code };
}

function isAbandoned(row: StateColumns, nowMs: number): boolean {
  const inTransition = row.state === "Pending" || row.lastUpdateStatus === "InProgress";
  return inTransition && row.transitionStartedAt !== null && nowMs - row.transitionStartedAt > TRANSITION_TIMEOUT_MS;
}

/** Columns of a new row that is being created. */
export function creatingColumns(nowMs: number): StateColumns {
  return {
    state: "Pending",
    stateReason: null,
    stateReasonCode: null,
    lastUpdateStatus: null,
    lastUpdateStatusReason: null,
    lastUpdateStatusReasonCode: null,
    pendingUpdate: null,
    transitionStartedAt: nowMs,
  };
}

/** Columns of a row that is ready to run. */
export function activeColumns(): StateColumns {
  return {
    state: "Active",
    stateReason: null,
    stateReasonCode: null,
    lastUpdateStatus: "Successful",
    lastUpdateStatusReason: null,
    lastUpdateStatusReasonCode: null,
    pendingUpdate: null,
    transitionStartedAt: null,
  };
}

/** Columns of a row whose create failed (State Failed) or whose update failed (previous code kept). */
export function failedColumns(current: StateColumns, reason: string, code: string): StateColumns {
  const createFailed = current.state !== "Active";
  return {
    state: createFailed ? "Failed" : "Active",
    stateReason: createFailed ? reason : null,
    stateReasonCode: createFailed ? code : null,
    lastUpdateStatus: "Failed",
    lastUpdateStatusReason: reason,
    lastUpdateStatusReasonCode: code,
    pendingUpdate: null,
    transitionStartedAt: null,
  };
}

/** Columns of $LATEST while `pending` is being applied. */
export function updatingColumns(current: StateColumns, pending: PendingUpdate, nowMs: number): StateColumns {
  const failedBefore = current.state !== "Active";
  return {
    // A function whose create failed stays Failed until an update succeeds.
    state: failedBefore ? "Failed" : "Active",
    stateReason: failedBefore ? (current.stateReason ?? ABANDONED_REASON) : null,
    stateReasonCode: failedBefore ? (current.stateReasonCode ?? ABANDONED_CODE) : null,
    lastUpdateStatus: "InProgress",
    lastUpdateStatusReason: null,
    lastUpdateStatusReasonCode: null,
    pendingUpdate: pending,
    transitionStartedAt: nowMs,
  };
}
