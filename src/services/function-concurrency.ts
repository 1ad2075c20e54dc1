import { LATEST } from "../data/function-store";
import { conflict, invalidParameter } from "../errors";
import { forgetTenant } from "../invoke/target";
import { functionNotFound } from "../lambda/function-name";
import { codeStorage } from "./code-storage";
import { requireFunction } from "./resolve";
import type { TenantScope } from "./scope";

/**
 * Lambda keeps 100 of an account's 1000 concurrent executions unreserved. A
 * tenant's limit is set by the operator and may be smaller, so cellfn keeps
 * the same tenth of it (capped at 100) free.
 */
export function minimumUnreserved(concurrencyLimit: number): number {
  return Math.min(100, Math.ceil(concurrencyLimit / 10));
}

export async function putFunctionConcurrency(scope: TenantScope, name: string, reserved: number): Promise<{ ReservedConcurrentExecutions: number }> {
  // Put names $LATEST in its 404 (Get and Delete do not): AWS's recording, test_function_concurrency_exceptions.
  if (!(await scope.store.getFunction(name))) throw functionNotFound(scope.names, name, LATEST);
  const limit = scope.principal.concurrencyLimit;
  const floor = minimumUnreserved(limit);
  // The check is inside the write (concurrent reservations cannot both pass);
  // only a refused write reads the totals, to answer with Lambda's message.
  if (!(await scope.store.reserveConcurrency(name, reserved, limit - floor))) {
    await requireFunction(scope, name);
    const unreservedWithoutThis = limit - (await scope.store.reservedConcurrencyTotal(name));
    if (reserved > unreservedWithoutThis) {
      throw invalidParameter(`Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [${unreservedWithoutThis}].`);
    }
    if (unreservedWithoutThis - reserved < floor) {
      throw invalidParameter(
        `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${floor}].`,
      );
    }
    throw conflict(`The reservation of ${name} could not be set: the tenant's reservations changed meanwhile. Retry the request.`);
  }
  // Every function's unreserved pool changes with a reservation.
  forgetTenant(scope.principal.tenantId);
  return { ReservedConcurrentExecutions: reserved };
}

export async function getFunctionConcurrency(scope: TenantScope, name: string): Promise<Record<string, number>> {
  const fn = await requireFunction(scope, name);
  return fn.reservedConcurrency === null ? {} : { ReservedConcurrentExecutions: fn.reservedConcurrency };
}

export async function deleteFunctionConcurrency(scope: TenantScope, name: string): Promise<void> {
  await requireFunction(scope, name);
  await scope.store.setReservedConcurrency(name, null);
  forgetTenant(scope.principal.tenantId);
}

export async function getAccountSettings(scope: TenantScope) {
  const limit = scope.principal.concurrencyLimit;
  const [reserved, storage] = await Promise.all([scope.store.reservedConcurrencyTotal(), codeStorage(scope)]);
  return {
    AccountLimit: {
      // The tenant's quota (75 GB unless the operator changed it).
      TotalCodeSize: storage.limitBytes,
      CodeSizeUnzipped: 262144000,
      CodeSizeZipped: 52428800,
      ConcurrentExecutions: limit,
      UnreservedConcurrentExecutions: limit - reserved,
    },
    // Layers count in the account's code storage, as on AWS (lambda-api-notes.md, GetAccountSettings).
    AccountUsage: { TotalCodeSize: storage.usedBytes, FunctionCount: storage.functionCount },
  };
}
