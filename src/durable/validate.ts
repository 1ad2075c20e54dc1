/**
 * Checkpoint validation, rule for rule and message for message as the SDK's
 * own reference service (@aws/durable-execution-sdk-js-testing,
 * checkpoint-server validateCheckpointUpdates): which actions each type
 * takes, which states each action may leave, parents, duplicates, and the
 * payload limits of docs/reference/lambda-api-notes.md §8.1. Pure: the
 * Durable Object applies a batch only after all of it passed.
 */
import type { Operation, OperationAction, OperationType, OperationUpdate } from "./types";
import { OPERATION_ACTIONS, OPERATION_TYPES } from "./types";

/** A checkpoint refused as a whole; answered InvalidParameterValueException with this message. */
export class CheckpointRejected extends Error {}

/** STEP / CONTEXT / WAIT / CALLBACK payloads and results (256 KB); CHAINED_INVOKE input (1 MB). */
export const OPERATION_PAYLOAD_MAX_BYTES = 262_144;
export const CHAINED_INVOKE_PAYLOAD_MAX_BYTES = 1_048_576;
/** The reference service's limit on an update carrying an Error. */
export const ERROR_UPDATE_MAX_BYTES = 32_768;
const ID_MAX = 64;
const ID = /^[a-zA-Z0-9_-]+$/;
const NAME_MAX = 256;
const SUBTYPE_MAX = 32;
/** WaitSeconds and NextAttemptDelaySeconds: 1 s up to a year. */
export const DELAY_MAX_S = 31_622_400;

const VALID_ACTIONS: Record<OperationType, readonly OperationAction[]> = {
  STEP: ["START", "FAIL", "RETRY", "SUCCEED"],
  CONTEXT: ["START", "FAIL", "SUCCEED"],
  WAIT: ["START", "CANCEL"],
  CALLBACK: ["START", "CANCEL"],
  CHAINED_INVOKE: ["START", "CANCEL"],
  EXECUTION: ["SUCCEED", "FAIL"],
};

const reject = (message: string): never => {
  throw new CheckpointRejected(message);
};

/** Checks one batch against the stored operations; throws CheckpointRejected on the first fault. */
export function validateUpdates(updates: readonly OperationUpdate[], existing: ReadonlyMap<string, Operation>): void {
  if (updates.length === 0) return;
  const executions = updates.filter((u) => u.Type === "EXECUTION");
  if (executions.length > 1) reject("Cannot checkpoint multiple EXECUTION updates.");
  if (executions.length === 1 && updates[updates.length - 1]?.Type !== "EXECUTION") reject("EXECUTION checkpoint must be the last update.");
  checkParentsAndDuplicates(updates, existing);
  for (const update of updates) {
    checkSizes(update);
    if (!VALID_ACTIONS[update.Type].includes(update.Action)) reject("Invalid action for the given operation type.");
    checkTransition(update, existing.get(update.Id));
  }
}

/** The model's constraints on the request itself (types, lengths, enums); messages name the member as AWS does. */
export function checkUpdateShapes(raw: unknown): OperationUpdate[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) reject("Updates must be a list of OperationUpdate.");
  const list = raw as unknown[];
  list.forEach((item, i) => {
    const where = `updates.${i + 1}.member`;
    if (typeof item !== "object" || item === null) reject(`Value at '${where}' must be an OperationUpdate object.`);
    const u = item as Record<string, unknown>;
    if (typeof u.Id !== "string" || u.Id.length === 0) reject("Operation update must have an Id.");
    const id = u.Id as string;
    if (id.length > ID_MAX || !ID.test(id)) reject(`Value '${id}' at '${where}.id' failed to satisfy constraint: Member must have length less than or equal to ${ID_MAX} and match [a-zA-Z0-9-_]+`);
    if (u.ParentId !== undefined && (typeof u.ParentId !== "string" || u.ParentId.length > ID_MAX)) reject(`Value at '${where}.parentId' failed to satisfy constraint: Member must have length less than or equal to ${ID_MAX}`);
    if (u.Name !== undefined && (typeof u.Name !== "string" || u.Name.length > NAME_MAX)) reject(`Value at '${where}.name' failed to satisfy constraint: Member must have length less than or equal to ${NAME_MAX}`);
    if (u.SubType !== undefined && (typeof u.SubType !== "string" || u.SubType.length > SUBTYPE_MAX)) reject(`Value at '${where}.subType' failed to satisfy constraint: Member must have length less than or equal to ${SUBTYPE_MAX}`);
    if (!(OPERATION_TYPES as readonly unknown[]).includes(u.Type)) reject("Invalid operation type.");
    if (!(OPERATION_ACTIONS as readonly unknown[]).includes(u.Action)) reject("Invalid action for the given operation type.");
    if (u.Payload !== undefined && typeof u.Payload !== "string") reject(`Value at '${where}.payload' must be a string.`);
    checkDelay(u.WaitOptions, "WaitSeconds", `${where}.waitOptions.waitSeconds`);
    checkDelay(u.StepOptions, "NextAttemptDelaySeconds", `${where}.stepOptions.nextAttemptDelaySeconds`);
    if (u.Type === "CHAINED_INVOKE" && u.Action === "START") {
      const options = u.ChainedInvokeOptions as { FunctionName?: unknown } | undefined;
      if (typeof options?.FunctionName !== "string" || options.FunctionName.length === 0) reject("FunctionName is required for CHAINED_INVOKE updates");
    }
  });
  return list as OperationUpdate[];
}

function checkDelay(options: unknown, member: string, where: string): void {
  if (options === undefined) return;
  const value = (options as Record<string, unknown>)[member];
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > DELAY_MAX_S) {
    reject(`Value '${String(value)}' at '${where}' failed to satisfy constraint: Member must have value between 1 and ${DELAY_MAX_S}`);
  }
}

function checkSizes(update: OperationUpdate): void {
  const bytes = (s: string) => new TextEncoder().encode(s).byteLength;
  if (update.Error != null && bytes(JSON.stringify(update)) > ERROR_UPDATE_MAX_BYTES) {
    reject(`Error object size must be less than ${ERROR_UPDATE_MAX_BYTES} bytes.`);
  }
  if (update.Payload === undefined) return;
  const limit = update.Type === "CHAINED_INVOKE" ? CHAINED_INVOKE_PAYLOAD_MAX_BYTES : update.Type === "EXECUTION" ? Infinity : OPERATION_PAYLOAD_MAX_BYTES;
  if (bytes(update.Payload) > limit) reject(`Payload size must be less than or equal to ${limit} bytes for ${update.Type} operations.`);
}

function checkParentsAndDuplicates(updates: readonly OperationUpdate[], existing: ReadonlyMap<string, Operation>): void {
  const started = new Map<string, OperationUpdate>();
  const lastSeen = new Map<string, OperationUpdate>();
  for (const update of updates) {
    const previous = lastSeen.get(update.Id);
    // A STEP or CONTEXT may start and close in one batch; nothing else repeats.
    const allowed = previous !== undefined && (previous.Type === "STEP" || previous.Type === "CONTEXT") && previous.Action === "START" && update.Action !== "START";
    if (previous !== undefined && !allowed) reject("Cannot update the same operation twice in a single request.");
    if (!validParent(update, started, existing)) reject("Invalid parent operation id.");
    if (update.Action === "START") started.set(update.Id, update);
    lastSeen.set(update.Id, update);
  }
}

/** Only a CONTEXT can be a parent: stored, or started earlier in the same batch. */
function validParent(update: OperationUpdate, started: ReadonlyMap<string, OperationUpdate>, existing: ReadonlyMap<string, Operation>): boolean {
  if (!update.ParentId) return true;
  const inBatch = started.get(update.ParentId);
  if (inBatch) return inBatch.Type === "CONTEXT";
  return existing.get(update.ParentId)?.Type === "CONTEXT";
}

function checkTransition(update: OperationUpdate, op: Operation | undefined): void {
  const status = op?.Status;
  const closing = update.Action === "SUCCEED" || update.Action === "FAIL";
  const payloadAndError = () => {
    if (update.Action === "FAIL" && update.Payload != null) reject("Cannot provide a Payload for FAIL action.");
    if (update.Action === "SUCCEED" && update.Error != null) reject("Cannot provide an Error for SUCCEED action.");
  };
  switch (update.Type) {
    case "STEP":
      if (update.Action === "START" && op && status !== "READY") reject("Invalid current STEP state to start.");
      if (closing) {
        if (op && status !== "STARTED" && status !== "READY") reject("Invalid current STEP state to close.");
        payloadAndError();
      }
      if (update.Action === "RETRY") {
        if (op && status !== "STARTED" && status !== "READY") reject("Invalid current STEP state to re-attempt.");
        if (update.StepOptions == null) reject("Invalid StepOptions for the given action.");
        if (update.Error != null && update.Payload != null) reject("Cannot provide both error and payload to RETRY a STEP.");
      }
      return;
    case "CONTEXT":
      if (update.Action === "START" && op) reject("Cannot start a CONTEXT that already exists.");
      if (closing) {
        if (op && status !== "STARTED") reject("Invalid current CONTEXT state to close.");
        payloadAndError();
      }
      return;
    case "EXECUTION":
      payloadAndError();
      return;
    case "WAIT":
    case "CALLBACK":
    case "CHAINED_INVOKE":
      if (update.Action === "START" && op) reject(`Cannot start a ${update.Type} that already exists.`);
      if (update.Action === "CANCEL" && (!op || status !== "STARTED")) {
        reject(`Cannot cancel a ${update.Type} that does not exist or has already completed.`);
      }
      if (update.Type === "WAIT" && update.Action === "START" && update.WaitOptions?.WaitSeconds === undefined) {
        reject("WaitOptions.WaitSeconds is required to START a WAIT.");
      }
      return;
  }
}
