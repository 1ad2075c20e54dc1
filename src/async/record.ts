/**
 * Lambda's invocation record for asynchronous invocations: what OnSuccess /
 * OnFailure destinations receive and what failed events keep
 * (docs/reference/lambda-api-notes.md §4, "Invocation record sent to destinations"). PURE: the
 * caller passes the clock and every value; unit-tested in test/unit/async-record.
 */
import { LATEST } from "../data/function-store";
import type { NameContext } from "../lambda/function-name";
import { functionArn } from "../lambda/function-name";

export interface InvocationRecord {
  version: "1.0";
  /** ISO 8601 with milliseconds, UTC. */
  timestamp: string;
  requestContext: {
    requestId: string;
    /** Qualified with the invoked qualifier, or `$LATEST` for an unqualified invoke. */
    functionArn: string;
    condition: string;
    approximateInvokeCount: number;
    /**
     * cellfn extension, only for functions in tenant isolation mode: the
     * X-Amz-Tenant-Id the event was invoked with (redrive sends it again).
     */
    tenantId?: string;
  };
  requestPayload?: unknown;
  responseContext?: {
    statusCode: number;
    executedVersion: string;
    functionError?: string;
  };
  responsePayload?: unknown;
}

/** The outcome of the attempt that ended the event, when the handler ran. */
export interface RecordResponse {
  statusCode: number;
  executedVersion: string;
  functionError?: string | undefined;
  /** The handler's result (or Lambda's error object) as JSON text. */
  payload: string;
}

export interface RecordInput {
  /** Epoch ms (or a Date) of the record. */
  timestamp: number | Date;
  requestId: string;
  names: NameContext;
  functionName: string;
  /** As invoked; undefined for an unqualified invoke. */
  qualifier: string | undefined;
  condition: string;
  approximateInvokeCount: number;
  /** The event as accepted (JSON text; "" is the empty event {}). */
  requestPayload: string;
  /** X-Amz-Tenant-Id of a tenant-isolated function. */
  isolationTenantId?: string | undefined;
  /**
   * The last attempt's response. Left out for conditions where nothing ran
   * (EventAgeExceeded, ZeroReservedConcurrency, ...), as Lambda does.
   */
  response?: RecordResponse | undefined;
}

export function invocationRecord(input: RecordInput): InvocationRecord {
  const record: InvocationRecord = {
    version: "1.0",
    timestamp: new Date(input.timestamp).toISOString(),
    requestContext: {
      requestId: input.requestId,
      functionArn: recordFunctionArn(input.names, input.functionName, input.qualifier),
      condition: input.condition,
      approximateInvokeCount: input.approximateInvokeCount,
      ...(input.isolationTenantId === undefined ? {} : { tenantId: input.isolationTenantId }),
    },
    requestPayload: parsePayload(input.requestPayload),
  };
  if (input.response) {
    record.responseContext = {
      statusCode: input.response.statusCode,
      executedVersion: input.response.executedVersion,
      ...(input.response.functionError ? { functionError: input.response.functionError } : {}),
    };
    record.responsePayload = parsePayload(input.response.payload);
  }
  return record;
}

/** The record's functionArn: qualified with what was invoked, `$LATEST` when nothing was. */
export function recordFunctionArn(names: NameContext, functionName: string, qualifier: string | undefined): string {
  return functionArn(names, functionName, qualifier ?? LATEST);
}

/**
 * JSON text → value, as the record carries payloads: "" (an empty event) is
 * `{}`, as the handler saw it; text that is not JSON is kept as a string.
 */
export function parsePayload(text: string): unknown {
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Byte size of the record as JSON. */
export function recordBytes(record: InvocationRecord): number {
  return new TextEncoder().encode(JSON.stringify(record)).byteLength;
}

/**
 * The record made to fit `maxBytes` the way Lambda fits oversize records:
 * the response payload is dropped first, then the request payload. Returns
 * the record unchanged when it fits.
 */
export function fitRecord(record: InvocationRecord, maxBytes: number): InvocationRecord {
  if (recordBytes(record) <= maxBytes) return record;
  const { responsePayload: _response, ...withoutResponse } = record;
  if (recordBytes(withoutResponse) <= maxBytes) return withoutResponse;
  const { requestPayload: _request, ...bare } = withoutResponse;
  return bare;
}

/** Reads back what `invocationRecord` wrote (a stored record), null when it is not one. */
export function asInvocationRecord(value: unknown): InvocationRecord | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Partial<InvocationRecord>;
  const ctx = v.requestContext;
  if (v.version !== "1.0" || typeof v.timestamp !== "string" || typeof ctx !== "object" || ctx === null) return null;
  if (typeof ctx.requestId !== "string" || typeof ctx.functionArn !== "string" || typeof ctx.condition !== "string") return null;
  return value as InvocationRecord;
}

/** The qualifier of a record's functionArn (`$LATEST` comes back as undefined: unqualified). */
export function qualifierOfArn(arn: string): string | undefined {
  const parts = arn.split(":");
  // arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
  const qualifier = parts.length >= 8 ? parts[7] : undefined;
  return qualifier === undefined || qualifier === LATEST ? undefined : qualifier;
}
