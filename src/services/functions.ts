import { buildFunctionCode, decodeZipFile, prepareCode } from "../code/build";
import { dropAllProvisioned, dropProvisioned } from "./provisioned-concurrency";
import type { PreparedCode } from "../code/build";
import { codeDownloadUrl } from "../code/download-url";
import { deleteEventInvokeConfigs } from "../data/event-config-store";
import { database } from "../db/client";
import { checkDeadLetterTarget } from "../lambda/destination-config";
import type { NewVersion, VersionRow } from "../data/function-store";
import { LATEST } from "../data/function-store";
import { conflict, functionAlreadyExists as alreadyExists, invalidParameter, preconditionFailed, functionNotReady, updateInProgress, aliasDeletionUnsupported } from "../errors";
import type { FunctionRef } from "../lambda/function-name";
import { functionArn, parseNewFunctionName } from "../lambda/function-name";
import type { StoredConfig } from "../lambda/function-config";
import { imagesUnsupported, newFunctionConfig, updatedFunctionConfig } from "../lambda/function-config";
import type { PendingUpdate, StateColumns } from "../lambda/function-state";
import { activeColumns, creatingColumns, updateBlocker, updatingColumns } from "../lambda/function-state";
import { functionConfiguration, lambdaTimestamp } from "../lambda/responses";
import { initialTags } from "../lambda/tags";
import type { CreateFunctionInput, UpdateFunctionCodeInput, UpdateFunctionConfigurationInput } from "../lambda/schemas";
import type { Defer, StoredCode } from "./deploy";
import { finishCreate, finishUpdate, runLater } from "./deploy";
import { layerContents, resolveFunctionLayers, sameLayers } from "./function-layers";
import { dropPolicies } from "./policies";
import { dropUrls } from "../function-urls/service";
import { forgetFunction } from "../invoke/target";
import { requireCodeStorage } from "./code-storage";
import { requireFunction, resolveVersion } from "./resolve";
import type { TenantScope } from "./scope";
import { isUniqueViolation } from "./sql-errors";
import { sha256, toHex } from "../util/bytes";

type Json = Record<string, unknown>;

/** Code a row points at: its bundle ("" while none is built yet), package hash and size. */
type RowCode = Pick<StoredCode, "bundleKey" | "codeSha256" | "codeSize">;

/**
 * Answers `State: Pending` once the quick checks pass and the rows are
 * written; the code is bundled after the response (`defer`) and the
 * function becomes Active or Failed (services/deploy.ts).
 */
export async function createFunction(scope: TenantScope, input: CreateFunctionInput, defer: Defer): Promise<Json> {
  const name = parseNewFunctionName(input.FunctionName, scope.names);
  const config = newFunctionConfig(name, input);
  if (config.DeadLetterConfig?.TargetArn) checkDeadLetterTarget(config.DeadLetterConfig.TargetArn, scope.names, name);
  const tags = initialTags(input.Tags);
  const zip = zipFileOf(input.Code);
  if (await scope.store.getFunction(name)) throw alreadyExists(name);
  if (input.Layers !== undefined && input.Layers.length > 0) config.Layers = await resolveFunctionLayers(scope, input.Layers);

  const zipBytes = decodeZipFile(zip);
  // $LATEST and, with Publish, version 1 each count their package (CodeSize is the zip's size); checked before any unzipping.
  await requireCodeStorage(scope, zipBytes.byteLength * (input.Publish ? 2 : 1));
  const prepared = await prepareCode(zipBytes, config.Handler, await layerContents(scope, config));
  const code = { bundleKey: "", codeSha256: prepared.codeSha256, codeSize: prepared.codeSize };
  const creating = creatingColumns(Date.now());
  const latest = versionRow(LATEST, config, code, creating);
  const published = input.Publish
    ? { ...versionRow("1", config, code, creating), lastModified: latest.lastModified, publishedFrom: await latestDigest(latest) }
    : undefined;
  try {
    await scope.store.createFunction(name, latest, published, tags);
  } catch (err) {
    if (isUniqueViolation(err)) throw alreadyExists(name);
    throw err;
  }
  const rows = [latest, ...(published ? [published] : [])].map((r) => ({ version: r.version, revisionId: r.revisionId, columns: creating }));
  runLater(defer, `CreateFunction ${name}`, () => finishCreate(scope, name, rows, prepared));
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
  const tags = fn.tags ?? row.config.Tags;
  if (tags && Object.keys(tags).length > 0) out.Tags = tags;
  if (fn.reservedConcurrency !== null) out.Concurrency = { ReservedConcurrentExecutions: fn.reservedConcurrency };
  return out;
}

export async function getFunctionConfiguration(scope: TenantScope, ref: FunctionRef): Promise<Json> {
  const { row, arnQualifier } = await resolveVersion(scope, ref);
  return functionConfiguration(row, scope.names, { arnQualifier });
}

/** Answers `LastUpdateStatus: InProgress`; a new Handler is built from the stored package after the response. */
export async function updateFunctionConfiguration(
  scope: TenantScope,
  name: string,
  input: UpdateFunctionConfigurationInput,
  defer: Defer,
): Promise<Json> {
  const current = await latestOf(scope, name, input.RevisionId);
  const config = updatedFunctionConfig(name, current.config, input);
  if (config.DeadLetterConfig?.TargetArn) checkDeadLetterTarget(config.DeadLetterConfig.TargetArn, scope.names, name);
  if (input.Layers !== undefined) {
    const layers = await resolveFunctionLayers(scope, input.Layers);
    if (layers.length > 0) config.Layers = layers;
    else delete config.Layers;
  }
  // The bundle holds the handler's module and the layers' code (resolved through the runtime's
  // NODE_PATH): a new Handler, new Layers, a new Runtime with layers, or a function whose create
  // failed is built again from the stored package.
  const rebuild =
    config.Handler !== current.config.Handler ||
    !sameLayers(config, current.config) ||
    (config.Runtime !== current.config.Runtime && (config.Layers ?? []).length > 0) ||
    current.bundleKey === "";
  const prepared = rebuild ? await preparedFromStore(scope, current, config) : undefined;
  return startUpdate(scope, name, current, { config, codeSha256: current.codeSha256, codeSize: current.codeSize, lastModified: lambdaTimestamp() }, prepared, defer);
}

/** Answers `LastUpdateStatus: InProgress` and bundles after the response; with Publish, waits for it and publishes. */
export async function updateFunctionCode(scope: TenantScope, name: string, input: UpdateFunctionCodeInput, defer: Defer): Promise<Json> {
  const current = await latestOf(scope, name, input.RevisionId);
  if (input.ImageUri !== undefined) throw invalidParameter("Please don't provide ImageUri when updating a function with packageType Zip.");
  const zip = zipFileOf(input);
  const config = input.Architectures ? { ...current.config, Architectures: input.Architectures } : current.config;

  const layers = await layerContents(scope, config);
  if (input.DryRun) {
    const built = await buildFunctionCode(scope.env.LOADER, zip, config.Handler, layers);
    const preview = versionRow(LATEST, config, { ...built, bundleKey: current.bundleKey }, current);
    return functionConfiguration({ ...current, ...preview, revisionId: current.revisionId }, scope.names);
  }

  const zipBytes = decodeZipFile(zip);
  // The new package replaces $LATEST's; with Publish a version keeps a copy too.
  await requireCodeStorage(scope, zipBytes.byteLength - current.codeSize + (input.Publish ? zipBytes.byteLength : 0));
  const prepared = await prepareCode(zipBytes, config.Handler, layers);
  const pending = { config, codeSha256: prepared.codeSha256, codeSize: prepared.codeSize, lastModified: lambdaTimestamp() };
  // Publish needs the built code: the update is finished within the request, then published.
  let settled: Promise<void> | undefined;
  const inline: Defer = (work) => {
    settled = work;
  };
  const answer = await startUpdate(scope, name, current, pending, prepared, input.Publish ? inline : defer);
  if (!input.Publish) return answer;
  await settled;
  return publishVersion(scope, name, {});
}

export async function deleteFunction(scope: TenantScope, ref: FunctionRef): Promise<void> {
  const { name, qualifier } = ref;
  await requireFunction(scope, name);
  if (qualifier === undefined) {
    // Configs first: a failure after this leaves a function the user can delete again, never stale configs a new function would inherit.
    await deleteEventInvokeConfigs(database(scope.env.DB), scope.principal.tenantId, name);
    await dropPolicies(scope, name);
    await dropAllProvisioned(scope, name);
    await dropUrls(scope, name);
    const code = await scope.store.deleteFunction(name);
    forgetFunction(scope.principal.tenantId, name);
    await scope.code.release(code);
    return;
  }
  // AWS's answers (LocalStack's AWS-validated snapshots test_lambda_api
  // test_function_name_and_qualifier_validation[*-delete_function] and
  // test_delete_on_nonexisting_version): an alias qualifier is refused, a
  // version that does not exist is a no-op answered 204.
  if (qualifier === LATEST) throw invalidParameter("$LATEST version cannot be deleted without deleting the function.");
  if (!/^[0-9]+$/.test(qualifier)) throw aliasDeletionUnsupported();
  const row = await scope.store.getVersion(name, qualifier);
  if (!row) return;
  const routing = await scope.store.aliasesRoutingTo(name, qualifier);
  if (routing.length > 0) {
    throw conflict(
      `Unable to delete version because the following aliases reference it: [${routing.map((a) => a.name).join(", ")}]`,
    );
  }
  await scope.store.deleteVersion(name, qualifier);
  await dropPolicies(scope, name, qualifier);
  await dropProvisioned(scope, name, qualifier);
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
  // A function whose create failed has no code to publish.
  if (latest.state !== "Active") throw functionNotReady(latest.state);
  if (input.CodeSha256 !== undefined && input.CodeSha256 !== latest.codeSha256) {
    throw invalidParameter(
      `CodeSHA256 (${input.CodeSha256}) is different from current CodeSHA256 in $LATEST (${latest.codeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
    );
  }
  const config = input.Description === undefined ? latest.config : { ...latest.config, Description: input.Description };
  // Publishing an unchanged $LATEST returns the newest version instead of a copy; the
  // Description given here is not a change, one set on $LATEST is (LocalStack's provider
  // compares the $LATEST revision a version was published from, as AWS behaves).
  const from = await latestDigest(latest);
  if (fn.lastVersion > 0) {
    const newest = await scope.store.getVersion(name, String(fn.lastVersion));
    if (newest && newest.publishedFrom === from) return functionConfiguration(newest, scope.names);
  }
  await requireCodeStorage(scope, latest.codeSize);
  const number = fn.lastVersion + 1;
  const version = { ...versionRow(String(number), config, latest, activeColumns()), publishedFrom: from };
  try {
    await scope.store.publish(name, fn.lastVersion, version, { from: latest.revisionId, to: crypto.randomUUID() });
  } catch (err) {
    if (isUniqueViolation(err)) throw updateInProgress(functionArn(scope.names, name));
    throw err;
  }
  forgetFunction(scope.principal.tenantId, name);
  return functionConfiguration({ ...version, tenantId: scope.principal.tenantId, functionName: name }, scope.names);
}

// --- helpers ---------------------------------------------------------------

async function latestOf(scope: TenantScope, name: string, expectedRevision?: string): Promise<VersionRow> {
  const { row } = await resolveVersion(scope, { name });
  // AWS checks the state before the revision: a busy function answers 409 whatever RevisionId says.
  const busy = updateBlocker(row, functionArn(scope.names, name), Date.now());
  if (busy) throw busy;
  if (expectedRevision !== undefined && expectedRevision !== row.revisionId) throw preconditionFailed();
  return row;
}

/** Marks $LATEST InProgress with what it will become, answers with that, and finishes after the response. */
async function startUpdate(
  scope: TenantScope,
  name: string,
  current: VersionRow,
  pending: PendingUpdate,
  prepared: PreparedCode | undefined,
  defer: Defer,
): Promise<Json> {
  const revisionId = crypto.randomUUID();
  const columns = updatingColumns(current, pending, Date.now());
  const started = await scope.store.patchVersion(name, LATEST, current.revisionId, { ...columns, revisionId });
  if (!started) throw updateInProgress(functionArn(scope.names, name));
  const updating: VersionRow = { ...current, ...columns, revisionId };
  runLater(defer, `update of ${name}`, () => finishUpdate(scope, name, updating, pending, prepared));
  return functionConfiguration(updating, scope.names);
}

function versionRow(version: string, config: StoredConfig, code: RowCode, state: StateColumns): NewVersion {
  return {
    version,
    versionNumber: version === LATEST ? 0 : Number(version),
    config,
    codeSha256: code.codeSha256,
    codeSize: code.codeSize,
    bundleKey: code.bundleKey,
    revisionId: crypto.randomUUID(),
    lastModified: lambdaTimestamp(),
    publishedFrom: null,
    ...state,
  };
}

async function preparedFromStore(scope: TenantScope, current: VersionRow, config: StoredConfig): Promise<PreparedCode> {
  const zip = await scope.code.getZip(current.codeSha256);
  if (!zip) {
    throw invalidParameter(
      `The function's .zip package (CodeSha256 ${current.codeSha256}) is not stored, so its Handler cannot change alone: upload the code again with UpdateFunctionCode, then set the Handler.`,
    );
  }
  return prepareCode(zip, config.Handler, await layerContents(scope, config));
}

function zipFileOf(code: { ZipFile?: string | undefined; S3Bucket?: string | undefined; ImageUri?: string | undefined }): string {
  if (code.ZipFile !== undefined) return code.ZipFile;
  if (code.S3Bucket !== undefined) {
    throw invalidParameter("cellfn takes code as Code.ZipFile (for example --zip-file fileb://function.zip); S3 code locations are not supported.");
  }
  if (code.ImageUri !== undefined) throw imagesUnsupported();
  throw invalidParameter("Please provide a source for function code: set Code.ZipFile to a base64-encoded .zip file.");
}

/** What a published version was made from: $LATEST's configuration and code. */
async function latestDigest(latest: Pick<VersionRow, "config" | "codeSha256">): Promise<string> {
  return toHex(await sha256(new TextEncoder().encode(`${latest.codeSha256}\n${JSON.stringify(latest.config)}`)));
}
