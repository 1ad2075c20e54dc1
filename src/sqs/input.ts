import { AwsJsonError } from "../aws-json/errors";
import { batchIdsNotDistinct, emptyBatch, invalidBatchEntryId, invalidValueFor, missingParameter, tooManyEntries } from "./errors";
import { BATCH_ENTRY_ID } from "./queue-ref";

/** Readers for SQS request fields: wrong JSON types are SerializationExceptions, missing required ones MissingParameter. */
const wrongType = (name: string) => new AwsJsonError(400, "SerializationException", `Unexpected value type for field ${name}.`);

export function optionalString(input: Record<string, unknown>, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw wrongType(name);
  return value;
}

export function requiredString(input: Record<string, unknown>, name: string): string {
  const value = optionalString(input, name);
  if (value === undefined) throw missingParameter(name);
  return value;
}

export function optionalInteger(input: Record<string, unknown>, name: string): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) throw wrongType(name);
  return value;
}

/** An integer in [min, max], refused with SQS's wording otherwise. */
export function integerInRange(input: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const value = optionalInteger(input, name);
  if (value !== undefined && (value < min || value > max)) {
    throw invalidValueFor(name, value, `Must be >= ${min} and <= ${max}, if provided.`);
  }
  return value;
}

export function stringList(input: Record<string, unknown>, name: string): string[] {
  const value = input[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) throw wrongType(name);
  return value as string[];
}

export function stringMap(input: Record<string, unknown>, name: string): Record<string, string> {
  const value = input[name];
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw wrongType(name);
  for (const v of Object.values(value)) if (typeof v !== "string") throw wrongType(name);
  return value as Record<string, string>;
}

export const BATCH_MAX_ENTRIES = 10;

/**
 * The `Entries` of a batch call, checked in AWS's order: none, more than 10,
 * a malformed id, a repeated id. Each is refused before anything is done.
 */
export function batchEntries(input: Record<string, unknown>, entryShape: string): Record<string, unknown>[] {
  const value = input.Entries;
  if (value === undefined || value === null) throw missingParameter("Entries");
  if (!Array.isArray(value)) throw wrongType("Entries");
  if (value.length === 0) throw emptyBatch(entryShape);
  if (value.length > BATCH_MAX_ENTRIES) throw tooManyEntries(value.length);
  const seen = new Set<string>();
  for (const entry of value) {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw wrongType("Entries");
    const id = (entry as Record<string, unknown>).Id;
    if (typeof id !== "string") throw missingParameter("Id");
    if (!BATCH_ENTRY_ID.test(id)) throw invalidBatchEntryId();
    if (seen.has(id)) throw batchIdsNotDistinct(id);
    seen.add(id);
  }
  return value as Record<string, unknown>[];
}
