/**
 * Runs one batch's invocation (SQS and stream mappings alike) in a request context of its own. A Durable
 * Object's alarm is one context, and a context may have only a few distinct
 * Dynamic Workers in flight (docs/ARCHITECTURE.md, "Limits of the Worker
 * Loader"): the poller calls this entrypoint through the Worker's loopback
 * binding (`exports.SqsBatchRunner`), as the async poller does with EventRunner.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { LambdaError } from "../errors";
import { functionArn } from "../lambda/function-name";
import { lineageOfInvocation, NO_LINEAGE, stopsRecursion } from "../invoke/recursion";
import { invokeSync } from "../invoke/run";
import { invokeTarget, prepareInvoke } from "../invoke/target";
import type { LineageCounts } from "../runtime/lineage";
import { cachedTenantScopeById } from "../services/scope";

export interface BatchInvocation {
  tenantId: string;
  functionName: string;
  qualifier?: string;
  /** The event's JSON text. */
  payload: string;
  /** The chains of invocations that sent the batch's records, merged (src/invoke/recursion.ts). */
  lineage?: LineageCounts;
}

export interface LoopCheck {
  tenantId: string;
  functionName: string;
  qualifier?: string;
  /** Each record's chain (from its AWSTraceHeader). */
  lineages: LineageCounts[];
}

export type BatchInvokeResult =
  | { kind: "ran"; functionError: boolean; payload: string; executedVersion: string }
  /** 429 before any user code ran. */
  | { kind: "throttled" }
  /** The function (or tenant) could not be invoked at all: the reason for LastProcessingResult. */
  | { kind: "refused"; reason: string };

export class SqsBatchRunner extends WorkerEntrypoint<Env> {
  /** The execution role of the version an invocation would run (a Kinesis event's invokeIdentityArn); null when it cannot be invoked. */
  async role(batch: Omit<BatchInvocation, "payload">): Promise<string | null> {
    const scope = await cachedTenantScopeById(this.env, batch.tenantId);
    if (!scope) return null;
    const ref = batch.qualifier === undefined ? { name: batch.functionName } : { name: batch.functionName, qualifier: batch.qualifier };
    try {
      return (await prepareInvoke(scope, ref, undefined)).version.config.Role;
    } catch (err) {
      if (err instanceof LambdaError && err.status < 500) return null;
      throw err;
    }
  }

  async run(batch: BatchInvocation): Promise<BatchInvokeResult> {
    const scope = await cachedTenantScopeById(this.env, batch.tenantId);
    if (!scope) return { kind: "refused", reason: "PROBLEM: The tenant no longer exists." };
    const ref = batch.qualifier === undefined ? { name: batch.functionName } : { name: batch.functionName, qualifier: batch.qualifier };
    try {
      const target = await prepareInvoke(scope, ref, undefined);
      if (target.fn.reservedConcurrency === 0) return { kind: "throttled" };
      const outcome = await invokeSync(scope, target, {
        requestId: crypto.randomUUID(),
        payload: batch.payload,
        tenantId: undefined,
        clientContext: undefined,
        lineage: batch.lineage ?? NO_LINEAGE,
        waitUntil: (p) => this.ctx.waitUntil(p),
      });
      return { kind: "ran", functionError: outcome.functionError !== undefined, payload: outcome.payload, executedVersion: outcome.executedVersion };
    } catch (err) {
      if (err instanceof LambdaError && err.status === 429) return { kind: "throttled" };
      if (err instanceof LambdaError && err.status === 404) return { kind: "refused", reason: "PROBLEM: Function not found." };
      if (err instanceof LambdaError && err.status < 500) return { kind: "refused", reason: `PROBLEM: ${err.message}` };
      throw err;
    }
  }

  /**
   * Which records recursive loop detection stops (indexes into `lineages`):
   * their function would run more than 16 times in one chain and its
   * RecursiveLoop setting is Terminate. Empty when the function is gone: the
   * invocation then reports that itself.
   */
  async looping(check: LoopCheck): Promise<number[]> {
    const scope = await cachedTenantScopeById(this.env, check.tenantId);
    if (!scope) return [];
    const ref = check.qualifier === undefined ? { name: check.functionName } : { name: check.functionName, qualifier: check.qualifier };
    const target = await invokeTarget(scope, ref).catch(() => undefined);
    if (!target) return [];
    const arn = functionArn(scope.names, target.fn.name);
    return check.lineages.flatMap((lineage, i) => (stopsRecursion(lineageOfInvocation(lineage, arn), arn, target.fn.recursiveLoop) ? [i] : []));
  }
}
