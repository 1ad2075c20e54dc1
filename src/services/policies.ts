import type { AliasRow, VersionRow } from "../data/function-store";
import { LATEST } from "../data/function-store";
import { PolicyStore } from "../data/policy-store";
import { database } from "../db/client";
import {
  aliasNotFound,
  latestPolicyUnsupported,
  noPolicy,
  noPolicyFor,
  policyNotFound,
  preconditionFailed,
  statementExists,
  statementNotFound,
} from "../errors";
import type { FunctionRef } from "../lambda/function-name";
import { functionArn, functionNotFound } from "../lambda/function-name";
import { allowsInvoke, permissionStatement, policyDocument } from "../lambda/policy";
import { TenantStore } from "../data/tenant-store";
import type { AddPermissionInput } from "../lambda/schemas";
import { requireFunction } from "./resolve";
import { forgetUrlsOf } from "../function-urls/lookup";
import type { TenantScope } from "./scope";

/**
 * AddPermission / RemovePermission / GetPolicy. A policy belongs to the
 * function at one qualifier ("" unqualified, a version, an alias); its
 * RevisionId is that version's (or alias's) RevisionId, and a change to the
 * policy of a version gives it a new one, as AWS's GetPolicy / GetFunction
 * answers show (LocalStack's AWS-validated test_lambda_permission_revisions).
 * Errors: see the catalogue entries in src/errors.ts and policy.ts.
 */

type Target = { kind: "version"; row: VersionRow } | { kind: "alias"; row: AliasRow };

export async function addPermission(scope: TenantScope, ref: FunctionRef, input: AddPermissionInput): Promise<{ Statement: string }> {
  if (ref.qualifier === LATEST) throw latestPolicyUnsupported();
  await requireFunction(scope, ref.name);
  const target = await targetOf(scope, ref);
  if (input.RevisionId !== undefined && input.RevisionId !== target.row.revisionId) throw preconditionFailed();
  const store = policies(scope);
  const qualifier = ref.qualifier ?? "";
  const statement = permissionStatement(input, functionArn(scope.names, ref.name, ref.qualifier));
  // Refuses, before anything is written, a statement that would take the policy over its size limit.
  policyDocument([...(await store.statements(ref.name, qualifier)), statement]);
  if (!(await store.add(ref.name, qualifier, statement))) throw statementExists(input.StatementId);
  forgetUrlsOf(scope.principal.tenantId, ref.name);
  await bumpRevision(scope, ref.name, target);
  return { Statement: JSON.stringify(statement) };
}

export async function removePermission(scope: TenantScope, ref: FunctionRef, sid: string, revisionId: string | undefined): Promise<void> {
  if (!(await scope.store.getFunction(ref.name))) throw noPolicyFor(functionArn(scope.names, ref.name, ref.qualifier));
  const target = await targetOf(scope, ref);
  const store = policies(scope);
  const qualifier = ref.qualifier ?? "";
  const statements = await store.statements(ref.name, qualifier);
  if (statements.length === 0) throw noPolicy();
  if (!statements.some((s) => s.Sid === sid)) throw statementNotFound(sid);
  if (revisionId !== undefined && revisionId !== target.row.revisionId) throw preconditionFailed();
  if (await store.remove(ref.name, qualifier, sid)) await bumpRevision(scope, ref.name, target);
  forgetUrlsOf(scope.principal.tenantId, ref.name);
}

export async function getPolicy(scope: TenantScope, ref: FunctionRef): Promise<{ Policy: string; RevisionId: string }> {
  if (!(await scope.store.getFunction(ref.name))) throw policyNotFound();
  const target = await targetOf(scope, ref).catch(() => {
    throw policyNotFound();
  });
  const statements = await policies(scope).statements(ref.name, ref.qualifier ?? "");
  if (statements.length === 0) throw policyNotFound();
  return { Policy: policyDocument(statements), RevisionId: target.row.revisionId };
}

/** Drops the policy of a deleted function, version or alias. */
export async function dropPolicies(scope: TenantScope, name: string, qualifier?: string): Promise<void> {
  await policies(scope).dropAll(name, qualifier);
}

function policies(scope: TenantScope): PolicyStore {
  return new PolicyStore(database(scope.env.DB), scope.principal.tenantId);
}

async function targetOf(scope: TenantScope, ref: FunctionRef): Promise<Target> {
  const { name, qualifier } = ref;
  if (qualifier === undefined || qualifier === LATEST || /^[0-9]+$/.test(qualifier)) {
    const row = await scope.store.getVersion(name, qualifier ?? LATEST);
    if (!row) throw functionNotFound(scope.names, name, qualifier);
    return { kind: "version", row };
  }
  const alias = await scope.store.getAlias(name, qualifier);
  if (!alias) {
    if (/^[a-zA-Z0-9-_]+$/.test(qualifier)) throw aliasNotFound(functionArn(scope.names, name, qualifier));
    throw functionNotFound(scope.names, name, qualifier);
  }
  return { kind: "alias", row: alias };
}

/** The policy is part of a version's revision: a new RevisionId (aliases keep theirs; see README). */
async function bumpRevision(scope: TenantScope, name: string, target: Target): Promise<void> {
  if (target.kind !== "version") return;
  await scope.store.patchVersion(name, target.row.version, target.row.revisionId, { revisionId: crypto.randomUUID() });
}

/**
 * For the invoke path: whether the caller (`callerAccountId`) may invoke
 * another tenant's function named by full ARN (`ref` parsed with
 * `otherAccounts: true`, so `ref.ownerAccountId` is set). Returns the owner's
 * tenant id when the function's policy at the addressed qualifier grants it
 * (`allowsInvoke`), else null; the caller then answers exactly the 403
 * AccessDeniedException it gives today, so an ungranted caller learns
 * nothing (not even whether the account or function exists). The
 * invocation then runs in the owner's scope (`tenantScopeById`), counted
 * against the owner's concurrency, as on AWS.
 */
export async function crossTenantInvokeGrant(env: Env, callerAccountId: string, ref: FunctionRef): Promise<string | null> {
  if (ref.ownerAccountId === undefined || ref.ownerAccountId === callerAccountId) return null;
  const db = database(env.DB);
  const owner = await new TenantStore(db).getTenantByAccountId(ref.ownerAccountId);
  if (!owner) return null;
  const statements = await new PolicyStore(db, owner.id).statements(ref.name, ref.qualifier ?? "");
  return allowsInvoke(statements, { callerAccountId }) ? owner.id : null;
}
