/**
 * The durable-execution APIs (docs/reference/lambda-api-notes.md §8.2, §8.5,
 * Appendix A), all under `/2025-12-01`: the data plane the SDK calls from
 * inside the function (checkpoint, state), the control plane (get, history,
 * list, stop) and the callbacks. An ARN or callback id is read in the
 * caller's tenant (src/durable/names.ts): another tenant's names reach an
 * object that holds nothing, answered as not found.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { requireFullScope } from "../auth/authenticate";
import { DurableExecutionStore } from "../data/durable-execution-store";
import { database } from "../db/client";
import { callbackNotFound, durableExecutionNotFound, invalidDurableExecutionArn, invalidParameter, invalidRequestContent, requestEntityTooLarge, validationErrors } from "../errors";
import { functionArn, parseFunctionName } from "../lambda/function-name";
import { requireFunction } from "../services/resolve";
import type { Answer } from "./execution-object";
import { parseCallbackId, parseExecutionArn } from "./names";
import { executionStub, refusalError } from "./start";
import type { CallbackAnswer } from "./transitions";
import type { ErrorObject } from "./types";
import { OPERATION_PAYLOAD_MAX_BYTES } from "./validate";

const PAGE_DEFAULT = 100;
const PAGE_MAX = 1000;
const EXECUTION_STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"];

export const durableRoutes = new Hono<AppEnv>({ strict: false })
  .post("/durable-executions/:arn/checkpoint", async (c) => {
    const target = executionOf(c);
    const body = jsonBody(await c.req.text());
    if (typeof body.CheckpointToken !== "string" || body.CheckpointToken.length === 0) {
      throw validationErrors(["Value null at 'checkpointToken' failed to satisfy constraint: Member must not be null"]);
    }
    return answer(c, await target.stub.checkpoint(target.executionId, body.CheckpointToken, body.Updates), target.arn);
  })
  .get("/durable-executions/:arn/state", async (c) => {
    const target = executionOf(c);
    const token = c.req.query("CheckpointToken");
    if (!token) throw validationErrors(["Value null at 'checkpointToken' failed to satisfy constraint: Member must not be null"]);
    return answer(c, await target.stub.state(target.executionId, token, c.req.query("Marker"), pageSize(c)), target.arn);
  })
  .get("/durable-executions/:arn/history", async (c) => {
    const target = executionOf(c);
    const opts = { includeData: flag(c, "IncludeExecutionData", true), maxItems: pageSize(c), reverse: flag(c, "ReverseOrder", false) };
    const marker = c.req.query("Marker");
    return answer(c, await target.stub.history(target.executionId, marker === undefined ? opts : { ...opts, marker }), target.arn);
  })
  .post("/durable-executions/:arn/stop", requireFullScope, async (c) => {
    const target = executionOf(c);
    const text = await c.req.text();
    const error = text.trim() === "" ? undefined : errorObjectOf(jsonBody(text));
    return answer(c, await target.stub.stop(target.executionId, error), target.arn);
  })
  .get("/durable-executions/:arn", async (c) => {
    const target = executionOf(c);
    return answer(c, await target.stub.describe(target.executionId, flag(c, "IncludeExecutionData", true)), target.arn);
  })
  .get("/functions/:FunctionName/durable-executions", async (c) => listExecutions(c))
  .post("/durable-execution-callbacks/:id/succeed", async (c) => {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength > OPERATION_PAYLOAD_MAX_BYTES) throw requestEntityTooLarge(`Callback result must be at most ${OPERATION_PAYLOAD_MAX_BYTES} bytes.`);
    // An empty body is no result (the SDK's sendCallbackSuccess(undefined)): the callback's Result stays unset.
    return callback(c, bytes.byteLength === 0 ? { kind: "succeed" } : { kind: "succeed", result: new TextDecoder().decode(bytes) });
  })
  .post("/durable-execution-callbacks/:id/fail", async (c) => {
    const text = await c.req.text();
    if (new TextEncoder().encode(text).byteLength > OPERATION_PAYLOAD_MAX_BYTES) throw requestEntityTooLarge(`Callback error must be at most ${OPERATION_PAYLOAD_MAX_BYTES} bytes.`);
    return callback(c, { kind: "fail", error: text.trim() === "" ? {} : errorObjectOf(jsonBody(text)) });
  })
  .post("/durable-execution-callbacks/:id/heartbeat", async (c) => callback(c, { kind: "heartbeat" }));

/** The execution an `{DurableExecutionArn}` names, in the caller's tenant. */
function executionOf(c: Context<AppEnv>) {
  const arn = c.req.param("arn") ?? "";
  const parsed = parseExecutionArn(arn);
  if (!parsed) throw invalidDurableExecutionArn(arn);
  const { principal } = c.var.scope;
  if (parsed.accountId !== principal.accountId || parsed.region !== c.env.REGION) throw durableExecutionNotFound(arn);
  return { arn, executionId: parsed.executionId, stub: executionStub(c.env, principal.tenantId, parsed.functionName, parsed.executionName) };
}

async function callback(c: Context<AppEnv>, reply: CallbackAnswer): Promise<Response> {
  const id = c.req.param("id") ?? "";
  const ref = parseCallbackId(id);
  if (!ref) throw callbackNotFound(id);
  const stub = executionStub(c.env, c.var.scope.principal.tenantId, ref.functionName, ref.executionName);
  const result = await stub.callback(ref.nonce, reply);
  if (result.refused) throw result.refused.code === "NotFound" ? callbackNotFound(id) : refusalError(result.refused, id);
  return c.json({}, 200);
}

function answer<T>(c: Context<AppEnv>, result: Answer<T>, arn: string): Response {
  if (result.refused) throw result.refused.code === "NotFound" ? durableExecutionNotFound(arn) : refusalError(result.refused, arn);
  return c.json(result.ok as Record<string, unknown>, 200);
}

/** ListDurableExecutionsByFunction. */
async function listExecutions(c: Context<AppEnv>): Promise<Response> {
  const scope = c.var.scope;
  const ref = parseFunctionName(c.req.param("FunctionName") ?? "", scope.names, { qualified: true, qualifierParam: c.req.query("Qualifier") });
  await requireFunction(scope, ref.name);
  const statuses = c.req.queries("Statuses") ?? [];
  const bad = statuses.find((s) => !EXECUTION_STATUSES.includes(s));
  if (bad !== undefined) throw validationErrors([`Value '${bad}' at 'statuses' failed to satisfy constraint: Member must satisfy enum value set: [${EXECUTION_STATUSES.join(", ")}]`]);
  const name = c.req.query("DurableExecutionName");
  const after = timeQuery(c, "StartedAfter");
  const before = timeQuery(c, "StartedBefore");
  const limit = pageSize(c);
  const rows = await new DurableExecutionStore(database(c.env.DB), scope.principal.tenantId).list({
    functionName: ref.name,
    ...(ref.qualifier === undefined ? {} : { version: ref.qualifier }),
    ...(name === undefined ? {} : { executionName: name }),
    statuses,
    ...(after === undefined ? {} : { startedAfter: after }),
    ...(before === undefined ? {} : { startedBefore: before }),
    oldestFirst: flag(c, "ReverseOrder", false),
    ...cursorOf(c.req.query("Marker")),
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const out: Record<string, unknown> = {
    DurableExecutions: page.map((r) => ({
      DurableExecutionArn: r.executionArn,
      DurableExecutionName: r.executionName,
      FunctionArn: functionArn(scope.names, r.functionName, r.version),
      Status: r.status,
      StartTimestamp: r.startedAt / 1000,
      ...(r.endedAt === null ? {} : { EndTimestamp: r.endedAt / 1000 }),
    })),
  };
  const last = page[page.length - 1];
  if (rows.length > limit && last) out.NextMarker = btoa(JSON.stringify({ s: last.startedAt, a: last.executionArn }));
  return c.json(out, 200);
}

function cursorOf(marker: string | undefined): { after?: { startedAt: number; executionArn: string } } {
  if (marker === undefined || marker === "") return {};
  try {
    const parsed = JSON.parse(atob(marker)) as { s?: unknown; a?: unknown };
    if (typeof parsed.s === "number" && typeof parsed.a === "string") return { after: { startedAt: parsed.s, executionArn: parsed.a } };
  } catch {
    // answered below
  }
  throw invalidParameter(`Invalid marker: ${marker}`);
}

function pageSize(c: Context<AppEnv>): number {
  const raw = c.req.query("MaxItems");
  if (raw === undefined || raw === "" || raw === "0") return PAGE_DEFAULT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > PAGE_MAX) {
    throw validationErrors([`Value '${raw}' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to ${PAGE_MAX}`]);
  }
  return n;
}

function flag(c: Context<AppEnv>, name: string, fallback: boolean): boolean {
  const raw = c.req.query(name);
  return raw === undefined ? fallback : raw === "true";
}

function timeQuery(c: Context<AppEnv>, name: string): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined) return undefined;
  const ms = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw);
  if (Number.isNaN(ms)) throw invalidParameter(`${name} must be an ISO-8601 timestamp: ${raw}`);
  return ms;
}

function jsonBody(text: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch (err) {
    throw invalidRequestContent((err as Error).message);
  }
  throw invalidRequestContent("the body must be a JSON object");
}

function errorObjectOf(body: Record<string, unknown>): ErrorObject {
  const out: ErrorObject = {};
  if (typeof body.ErrorMessage === "string") out.ErrorMessage = body.ErrorMessage;
  if (typeof body.ErrorType === "string") out.ErrorType = body.ErrorType;
  if (typeof body.ErrorData === "string") out.ErrorData = body.ErrorData;
  if (Array.isArray(body.StackTrace)) out.StackTrace = body.StackTrace.filter((l): l is string => typeof l === "string");
  return out;
}
