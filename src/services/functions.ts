import { buildFromZip, buildFunctionCode } from "../code/build";
import { codeDownloadUrl } from "../code/download-url";
import type { BuiltCode } from "../code/build";
import type { CodeRef, StagedCode } from "../data/code-store";
import { deleteEventInvokeConfigs } from "../data/event-config-store";
import { database } from "../db/client";
import { checkDeadLetterTarget } from "../lambda/destination-config";
import type { NewVersion, VersionRow } from "../data/function-store";
import { LATEST } from "../data/function-store";
import { conflict, functionAlreadyExists as alreadyExists, invalidParameter, preconditionFailed } from "../errors";
import type { FunctionRef } from "../lambda/function-name";
import { functionArn, parseNewFunctionName } from "../lambda/function-name";
import type { StoredConfig } from "../lambda/function-config";
import { newFunctionConfig, updatedFunctionConfig } from "../lambda/function-config";
import { functionConfiguration, lambdaTimestamp } from "../lambda/responses";
import type { CreateFunctionInput, UpdateFunctionCodeInput, UpdateFunctionConfigurationInput } from "../lambda/schemas";
import { forgetFunction } from "../invoke/target";
import { requireFunction, resolveVersion } from "./resolve";
import type { TenantScope } from "./scope";
import { isUniqueViolation } from "./sql-errors";

type Json = Record<string, unknown>;

interface StoredCode extends CodeRef {
  codeSize: number;
}

export async function createFunction(scope: TenantScope, input: CreateFunctionInput): Promise<Json> {
  const name = parseNewFunctionName(input.FunctionName, scope.names);
  const config = newFunctionConfig(name, input);
  if (config.DeadLetterConfig?.TargetArn) checkDeadLetterTarget(config.DeadLetterConfig.TargetArn, scope.names, name);
  const zip = zipFileOf(input.Code);
  if (await scope.store.getFunction(name)) throw alreadyExists(name);

  const code = await storeCode(scope, await buildFunctionCode(scope.env.LOADER, zip, config.Handler));
  const latest = versionRow(LATEST, config, code);
  const published = input.Publish ? { ...versionRow("1", config, code), lastModified: latest.lastModified } : undefined;
  try {
    await scope.store.createFunction(name, latest, published);
  } catch (err) {
    await scope.code.release([code]);
    if (isUniqueViolation(err)) throw alreadyExists(name);
    throw err;
  }
  await scope.code.confirm(code);
  const shown = published ?? latest;
  return functionConfiguration({ ...shown, tenantId: scope.principal.tenantId, functionName: name }, scope.names, { arnQualifier: null });
}

/** `origin`: where this API is served, for the presigned Code.Location. */
export async function getFunction(scope: TenantScope, ref: FunctionRef, origin: string): Promise<Json> {
  const { row, arnQualifier } = await resolveVersion(scope, ref);
  const fn = await requireFunction(scope, ref.name);
  const out: Json = {
    Configuration: functionConfiguration(row, scope.names, { arnQualifier }),
    Code: { RepositoryType: "S3", Location: await codeDownloadUrl(scope.env.KEY_DERIVATION_SECRET, origin, row.codeSha256) },
  };
  if (row.config.Tags && Object.keys(row.config.Tags).length > 0) out.Tags = row.config.Tags;
  if (fn.reservedConcurrency !== null) out.Concurrency = { ReservedConcurrentExecutions: fn.reservedConcurrency };
  return out;
}

export async function getFunctionConfiguration(scope: TenantScope, ref: FunctionRef): Promise<Json> {
  const { row, arnQualifier } = await resolveVersion(scope, ref);
  return functionConfiguration(row, scope.names, { arnQualifier });
}

export async function updateFunctionConfiguration(
  scope: TenantScope,
  name: string,
  input: UpdateFunctionConfigurationInput,
): Promise<Json> {
  const current = await latestOf(scope, name, input.RevisionId);
  const config = updatedFunctionConfig(name, current.config, input);
  if (config.DeadLetterConfig?.TargetArn) checkDeadLetterTarget(config.DeadLetterConfig.TargetArn, scope.names, name);
  // The bundle holds the handler's module: a new Handler is built again from the stored package.
  const staged = config.Handler === current.config.Handler ? undefined : await rebuildForHandler(scope, current, config.Handler);
  const next = versionRow(LATEST, config, staged ?? current);
  await replaceCode(scope, name, current, next, staged);
  return functionConfiguration({ ...current, ...next }, scope.names);
}

export async function updateFunctionCode(scope: TenantScope, name: string, input: UpdateFunctionCodeInput): Promise<Json> {
  const current = await latestOf(scope, name, input.RevisionId);
  if (input.ImageUri !== undefined) throw invalidParameter("Please don't provide ImageUri when updating a function with packageType Zip.");
  const zip = zipFileOf(input);
  const config = input.Architectures ? { ...current.config, Architectures: input.Architectures } : current.config;

  if (input.DryRun) {
    const built = await buildFunctionCode(scope.env.LOADER, zip, config.Handler);
    const preview = versionRow(LATEST, config, { ...built, bundleKey: current.bundleKey });
    return functionConfiguration({ ...current, ...preview, revisionId: current.revisionId }, scope.names);
  }

  const code = await storeCode(scope, await buildFunctionCode(scope.env.LOADER, zip, config.Handler));
  const next = versionRow(LATEST, config, code);
  await replaceCode(scope, name, current, next, code);
  if (input.Publish) return publishVersion(scope, name, {});
  return functionConfiguration({ ...current, ...next }, scope.names);
}

export async function deleteFunction(scope: TenantScope, ref: FunctionRef): Promise<void> {
  const { name, qualifier } = ref;
  await requireFunction(scope, name);
  if (qualifier === undefined) {
    // Configs first: a failure after this leaves a function the user can delete again, never stale configs a new function would inherit.
    await deleteEventInvokeConfigs(database(scope.env.DB), scope.principal.tenantId, name);
    const code = await scope.store.deleteFunction(name);
    forgetFunction(scope.principal.tenantId, name);
    await scope.code.release(code);
    return;
  }
  if (qualifier === LATEST) throw invalidParameter("$LATEST version cannot be deleted without deleting the function.");
  if (!/^[0-9]+$/.test(qualifier)) {
    throw invalidParameter(`Qualifier ${qualifier} is an alias: delete it with DeleteAlias, or pass a version number.`);
  }
  const { row } = await resolveVersion(scope, ref);
  const routing = await scope.store.aliasesRoutingTo(name, qualifier);
  if (routing.length > 0) {
    throw conflict(
      `Unable to delete version because the following aliases reference it: [${routing.map((a) => a.name).join(", ")}]`,
    );
  }
  await scope.store.deleteVersion(name, qualifier);
  forgetFunction(scope.principal.tenantId, name);
  await deleteEventInvokeConfigs(database(scope.env.DB), scope.principal.tenantId, name, qualifier);
  await scope.code.release([row]);
}

export async function publishVersion(
  scope: TenantScope,
  name: string,
  input: { CodeSha256?: string | undefined; Description?: string | undefined; RevisionId?: string | undefined },
): Promise<Json> {
  const fn = await requireFunction(scope, name);
  const latest = await latestOf(scope, name, input.RevisionId);
  if (input.CodeSha256 !== undefined && input.CodeSha256 !== latest.codeSha256) {
    throw invalidParameter(
      `CodeSHA256 (${input.CodeSha256}) is different from current CodeSHA256 in $LATEST (${latest.codeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
    );
  }
  const config = input.Description === undefined ? latest.config : { ...latest.config, Description: input.Description };
  // Publishing an unchanged $LATEST returns the newest version instead of a copy (as Lambda does).
  if (fn.lastVersion > 0) {
    const newest = await scope.store.getVersion(name, String(fn.lastVersion));
    if (newest && newest.codeSha256 === latest.codeSha256 && sameConfig(newest.config, config)) {
      return functionConfiguration(newest, scope.names);
    }
  }
  const number = fn.lastVersion + 1;
  const version = versionRow(String(number), config, latest);
  try {
    await scope.store.publish(name, fn.lastVersion, version);
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw conflict(`The operation cannot be performed at this time. An update is in progress for resource: ${functionArn(scope.names, name)}`);
    }
    throw err;
  }
  return functionConfiguration({ ...version, tenantId: scope.principal.tenantId, functionName: name }, scope.names);
}

// --- helpers ---------------------------------------------------------------

async function latestOf(scope: TenantScope, name: string, expectedRevision?: string): Promise<VersionRow> {
  const { row } = await resolveVersion(scope, { name });
  if (expectedRevision !== undefined && expectedRevision !== row.revisionId) throw preconditionFailed();
  return row;
}

async function replaceLatest(scope: TenantScope, name: string, current: VersionRow, next: NewVersion): Promise<void> {
  const replaced = await scope.store.replaceLatest(name, current.revisionId, next);
  // After the write: an invoke in this isolate meanwhile must not cache the old row again.
  forgetFunction(scope.principal.tenantId, name);
  if (!replaced) {
    throw conflict(
      `The operation cannot be performed at this time. An update is in progress for resource: ${functionArn(scope.names, name)}`,
    );
  }
}

function versionRow(version: string, config: StoredConfig, code: StoredCode): NewVersion {
  return {
    version,
    versionNumber: version === LATEST ? 0 : Number(version),
    config,
    codeSha256: code.codeSha256,
    codeSize: code.codeSize,
    bundleKey: code.bundleKey,
    revisionId: crypto.randomUUID(),
    lastModified: lambdaTimestamp(),
  };
}

async function storeCode(scope: TenantScope, built: BuiltCode): Promise<StagedCode & StoredCode> {
  return { ...(await scope.code.stage(built)), codeSize: built.codeSize };
}

/** $LATEST with new code or a new bundle: the new row, then the old blobs go if nothing else uses them. */
async function replaceCode(scope: TenantScope, name: string, current: VersionRow, next: NewVersion, staged?: StagedCode): Promise<void> {
  try {
    await replaceLatest(scope, name, current, next);
  } catch (err) {
    if (staged) await scope.code.release([staged]);
    throw err;
  }
  if (staged) await scope.code.confirm(staged);
  if (next.bundleKey !== current.bundleKey || next.codeSha256 !== current.codeSha256) await scope.code.release([current]);
}

async function rebuildForHandler(scope: TenantScope, current: VersionRow, handler: string): Promise<StagedCode & StoredCode> {
  const zip = await scope.code.getZip(current.codeSha256);
  if (!zip) {
    throw invalidParameter(
      `The function's .zip package (CodeSha256 ${current.codeSha256}) is not stored, so its Handler cannot change alone: upload the code again with UpdateFunctionCode, then set the Handler.`,
    );
  }
  return storeCode(scope, await buildFromZip(scope.env.LOADER, zip, handler));
}

function zipFileOf(code: { ZipFile?: string | undefined; S3Bucket?: string | undefined; ImageUri?: string | undefined }): string {
  if (code.ZipFile !== undefined) return code.ZipFile;
  if (code.S3Bucket !== undefined) {
    throw invalidParameter("cellfn takes code as Code.ZipFile (for example --zip-file fileb://function.zip); S3 code locations are not supported.");
  }
  if (code.ImageUri !== undefined) throw invalidParameter("cellfn runs .zip packages only; ImageUri is not supported.");
  throw invalidParameter("Please provide a source for function code: set Code.ZipFile to a base64-encoded .zip file.");
}

function sameConfig(a: StoredConfig, b: StoredConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

