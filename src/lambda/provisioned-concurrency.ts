/**
 * Pure rules of the provisioned concurrency API (PutProvisionedConcurrencyConfig
 * and friends, docs/reference/lambda-api-notes.md §3): the state a config
 * reports and the limits it must fit in. Wording from AWS's recorded answers
 * (LocalStack's AWS-validated provider and snapshots, and users' reports).
 */

export type ProvisionedStatus = "IN_PROGRESS" | "READY" | "FAILED";

/**
 * IN_PROGRESS until every requested environment is initialised, then READY;
 * FAILED (with the reason) once an init failed for the function's own reason.
 */
export function provisionedStatus(requested: number, allocated: number, failure: string | null): { Status: ProvisionedStatus; StatusReason?: string } {
  if (failure !== null) return { Status: "FAILED", StatusReason: failure };
  return { Status: allocated >= requested ? "READY" : "IN_PROGRESS" };
}

export interface ProvisionedLimitInput {
  requested: number;
  /** What the function has provisioned on its other aliases and versions. */
  otherOfFunction: number;
  /** The function's reserved concurrency, null when it has none. */
  reserved: number | null;
  /** The tenant's concurrency limit. */
  tenantLimit: number;
  /** Every reservation of the tenant. */
  reservedTotal: number;
  /** Provisioned concurrency of the tenant's unreserved functions, this config left out. */
  otherUnreservedProvisioned: number;
  /** What must stay unreserved (src/services/function-concurrency.ts minimumUnreserved). */
  minimumUnreserved: number;
}

/**
 * Provisioned concurrency counts against the function's reservation when it
 * has one (all its configs together), otherwise against the account's
 * unreserved pool, which must keep its minimum. The message of the refusal, or null.
 */
export function provisionedLimitError(input: ProvisionedLimitInput): string | null {
  if (input.reserved !== null) {
    if (input.otherOfFunction + input.requested > input.reserved) {
      return "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function";
    }
    return null;
  }
  const unreserved = input.tenantLimit - input.reservedTotal - input.otherUnreservedProvisioned;
  if (input.requested > unreserved) return `Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [${unreserved}].`;
  if (unreserved - input.requested < input.minimumUnreserved) {
    return `Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${input.minimumUnreserved}].`;
  }
  return null;
}

/** How Lambda reports a provisioned environment whose init phase failed. */
export function initFailureReason(errorType: string, errorMessage: string): string {
  return `FUNCTION_ERROR_INIT_FAILURE: ${errorType}: ${errorMessage}`;
}
