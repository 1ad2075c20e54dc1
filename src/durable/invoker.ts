/**
 * Runs a durable execution's invocations and chained invokes, each in a
 * request context of its own (the loopback binding `exports.DurableInvoker`,
 * as the async poller does with EventRunner): the execution's object only
 * waits for the answer. Runs go through the normal invoke path (lease,
 * environment, concurrency, logs), on the version the execution started on.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { durableUnqualifiedInvoke, LambdaError } from "../errors";
import { NO_LINEAGE } from "../invoke/recursion";
import { invokeSync } from "../invoke/run";
import { prepareInvoke } from "../invoke/target";
import { parseFunctionName } from "../lambda/function-name";
import { tenantScopeById } from "../services/scope";
import type { TenantScope } from "../services/scope";
import type { RunAnswer } from "./invocation-outcome";
import { lambdaError } from "./invocation-outcome";
import { awaitEnd, startDurableExecution } from "./start";
import type { ChainedOutcome } from "./transitions";
import type { ErrorObject } from "./types";

/** A chained invoke of another durable function waits this long for it (Lambda's synchronous limit). */
const CHAINED_WAIT_MAX_MS = 900_000;

export class DurableInvoker extends WorkerEntrypoint<Env> {
  /** One invocation of a durable function with the SDK's invoke event. */
  async run(req: { tenantId: string; functionName: string; version: string; payload: string; requestId: string }): Promise<RunAnswer> {
    const scope = await tenantScopeById(this.env, req.tenantId);
    if (!scope) return { kind: "refused", throttled: false, message: "The function's tenant no longer exists." };
    try {
      const target = await prepareInvoke(scope, { name: req.functionName, qualifier: req.version }, undefined);
      const outcome = await invokeSync(scope, target, this.#options(req.requestId, req.payload));
      return outcome.functionError ? { kind: "returned", payload: outcome.payload, functionError: outcome.functionError } : { kind: "returned", payload: outcome.payload };
    } catch (err) {
      if (err instanceof LambdaError) {
        return { kind: "refused", throttled: err.status === 429 || err.status >= 500, message: err.message, ...(err.extra.reason ? { reason: err.extra.reason } : {}) };
      }
      throw err;
    }
  }

  /** CHAINED_INVOKE: invokes the named function of the same tenant and answers its result. */
  async chained(req: { tenantId: string; functionName: string; payload: string; executionName: string }): Promise<ChainedOutcome> {
    const scope = await tenantScopeById(this.env, req.tenantId);
    if (!scope) return failed({ ErrorType: "ResourceNotFoundException", ErrorMessage: "The tenant no longer exists." });
    try {
      return await this.#chained(scope, req);
    } catch (err) {
      if (err instanceof LambdaError) return failed({ ErrorType: err.type, ErrorMessage: err.message });
      throw err;
    }
  }

  async #chained(scope: TenantScope, req: { functionName: string; payload: string; executionName: string }): Promise<ChainedOutcome> {
    const ref = parseFunctionName(req.functionName, scope.names, { qualified: true });
    const target = await prepareInvoke(scope, ref, undefined);
    if (target.version.config.DurableConfig) {
      if (ref.qualifier === undefined) throw durableUnqualifiedInvoke();
      const started = await startDurableExecution(scope, target, req.payload, req.executionName);
      const end = await awaitEnd(started, CHAINED_WAIT_MAX_MS);
      if (end.Status === "SUCCEEDED") return typeof end.Result === "string" ? { status: "SUCCEEDED", result: end.Result } : { status: "SUCCEEDED" };
      const error = (end.Error as ErrorObject | undefined) ?? { ErrorType: String(end.Status), ErrorMessage: `The chained execution ended ${String(end.Status)}.` };
      return { status: end.Status === "TIMED_OUT" ? "TIMED_OUT" : "FAILED", error };
    }
    const outcome = await invokeSync(scope, target, this.#options(crypto.randomUUID(), req.payload));
    if (outcome.functionError) {
      let body: unknown;
      try {
        body = JSON.parse(outcome.payload);
      } catch {
        body = undefined;
      }
      return failed(lambdaError(body));
    }
    return { status: "SUCCEEDED", result: outcome.payload };
  }

  #options(requestId: string, payload: string) {
    // Replays of one execution are not a loop: each starts with no lineage.
    return { requestId, payload, tenantId: undefined, clientContext: undefined, lineage: NO_LINEAGE, waitUntil: (p: Promise<unknown>) => this.ctx.waitUntil(p) };
  }
}

const failed = (error: ErrorObject): ChainedOutcome => ({ status: "FAILED", error });
