import { parseJsonMessage } from "../filter-pattern/parse";

/** One stored event as a query reads it. */
export interface QueryEvent {
  timestamp: number;
  ingestionTime: number;
  message: string;
  logStream: string;
  logGroup: string;
  accountId: string;
}

export type QueryRecord = Map<string, unknown>;

const REPORT_FIELDS: [label: string, field: string][] = [
  ["Duration", "@duration"],
  ["Billed Duration", "@billedDuration"],
  ["Memory Size", "@memorySize"],
  ["Max Memory Used", "@maxMemoryUsed"],
  ["Init Duration", "@initDuration"],
];
const REQUEST_ID = /RequestId: ([0-9A-Za-z-]+)/;
const APP_LINE = /^\d{4}-\d\d-\d\dT[0-9:.]+Z\t([^\t]+)\t[A-Z]+\t/;

/**
 * The fields Insights discovers in an event: the system fields, Lambda's
 * fields on START / END / REPORT lines (`@type`, `@requestId`, `@duration`,
 * `@billedDuration`, `@memorySize`, `@maxMemoryUsed`, `@initDuration`, in
 * milliseconds and megabytes as numbers), `@requestId` of Lambda's
 * tab-separated application lines, and the fields of a JSON message,
 * flattened with dots (`user.id`, `items.0.sku`).
 */
export function discoverFields(event: QueryEvent): QueryRecord {
  const record: QueryRecord = new Map<string, unknown>([
    ["@timestamp", event.timestamp],
    ["@ingestionTime", event.ingestionTime],
    ["@message", event.message],
    ["@logStream", event.logStream],
    ["@log", `${event.accountId}:${event.logGroup}`],
  ]);
  const message = event.message;
  const type = /^(START|END|REPORT) RequestId: /.exec(message)?.[1];
  if (type !== undefined) {
    record.set("@type", type);
    const requestId = REQUEST_ID.exec(message)?.[1];
    if (requestId !== undefined) record.set("@requestId", requestId);
    if (type === "REPORT") {
      for (const [label, field] of REPORT_FIELDS) {
        const value = new RegExp(`${label}: ([0-9.]+) (?:ms|MB)`).exec(message)?.[1];
        if (value !== undefined) record.set(field, Number(value));
      }
    }
    return record;
  }
  const appRequestId = APP_LINE.exec(message)?.[1];
  if (appRequestId !== undefined && appRequestId !== "undefined") record.set("@requestId", appRequestId);
  const document = parseJsonMessage(message);
  if (document !== undefined) flatten(document, "", record);
  return record;
}

function flatten(value: unknown, prefix: string, into: QueryRecord): void {
  if (typeof value === "object" && value !== null) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix === "" ? key : `${prefix}.${key}`, into);
    return;
  }
  if (prefix !== "" && !into.has(prefix)) into.set(prefix, value);
}
