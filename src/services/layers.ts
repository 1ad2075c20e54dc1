import { z } from "zod";
import { decodeZipFile } from "../code/build";
import { codeDownloadUrl } from "../code/download-url";
import { unzippedSize } from "../code/layers";
import { unzipCode } from "../code/zip";
import { LayerStore, type LayerVersionRow } from "../data/layer-store";
import { database } from "../db/client";
import {
  invalidParameter,
  layerAccessDenied,
  layerMissingContent,
  layerPolicyRevisionMismatch,
  layerVersionNotFound,
  layerVersionPolicyTargetMissing,
  noPolicy,
  statementExists,
  statementNotFound,
} from "../errors";
import type { AddLayerVersionPermissionInput, PublishLayerVersionInput } from "../lambda/layer-schemas";
import { checkCompatibility } from "../lambda/layer-schemas";
import { grantedAccount, layerArn, layerStatement, type LayerRef, type LayerVersionRef, layerVersionArn } from "../lambda/layers";
import { decodeMarker, encodeMarker } from "../lambda/marker";
import { lambdaTimestamp } from "../lambda/responses";
import { sha256, toBase64 } from "../util/bytes";
import { requireCodeStorage } from "./code-storage";
import { grantedLayer } from "./function-layers";
import type { TenantScope } from "./scope";

type Json = Record<string, unknown>;

/** Lambda returns at most 50 layers or layer versions a page. */
const LAYER_PAGE_CAP = 50;

/**
 * The layer operations (`/2018-10-31/layers`). A layer is the caller's when
 * named by name or by an ARN of the caller's account; another tenant's layer
 * version can only be read (GetLayerVersion, GetLayerVersionByArn) and used
 * in a function, and only when its policy grants the caller's account:
 * anything else is AWS's 403 AccessDeniedException, whether or not the layer
 * exists. ListLayers lists the caller's own layers only.
 */
export async function publishLayerVersion(scope: TenantScope, ref: LayerRef, input: PublishLayerVersionInput, origin: string): Promise<Json> {
  ownOnly(scope, ref, "lambda:PublishLayerVersion", layerArn(ref));
  checkCompatibility({ runtimes: input.CompatibleRuntimes, architectures: input.CompatibleArchitectures });
  const { ZipFile, S3Bucket, S3Key } = input.Content;
  if (ZipFile === undefined) {
    if (S3Bucket !== undefined || S3Key !== undefined) {
      throw invalidParameter("cellfn takes layer content as Content.ZipFile (for example --zip-file fileb://layer.zip); S3 locations are not supported.");
    }
    throw layerMissingContent();
  }
  const zip = decodeZipFile(ZipFile);
  await requireCodeStorage(scope, zip.byteLength);
  const files = unzipCode(zip);
  const codeSha256 = toBase64(await sha256(zip));
  // Stored before the row that names it, and again after (a concurrent release of the same package may have removed it).
  await scope.code.stageZip(zip, codeSha256);
  const row = await layers(scope).publish(ref.name, {
    description: input.Description ?? "",
    licenseInfo: input.LicenseInfo ?? null,
    compatibleRuntimes: input.CompatibleRuntimes ?? null,
    compatibleArchitectures: input.CompatibleArchitectures ?? null,
    codeSha256,
    codeSize: zip.byteLength,
    unzippedSize: unzippedSize(files),
    createdDate: lambdaTimestamp(),
    policyRevisionId: crypto.randomUUID(),
  });
  await scope.code.stageZip(zip, codeSha256);
  return layerVersionOut(scope, row, scope.principal.accountId, origin);
}

export async function getLayerVersion(scope: TenantScope, ref: LayerVersionRef, origin: string): Promise<Json> {
  return layerVersionOut(scope, await readable(scope, ref), ref.accountId, origin);
}

export async function listLayerVersions(scope: TenantScope, ref: LayerRef, query: ListQuery): Promise<Json> {
  ownOnly(scope, ref, "lambda:ListLayerVersions", layerArn(ref));
  checkCompatibility({ runtime: query.runtime, architecture: query.architecture });
  const before = query.marker === undefined ? undefined : decodeMarker(query.marker, versionCursor).v;
  const rows = (await layers(scope).versions(ref.name, before)).filter((r) => matches(r, query));
  const limit = Math.min(query.maxItems ?? LAYER_PAGE_CAP, LAYER_PAGE_CAP);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    LayerVersions: page.map((r) => versionListItem(scope, r)),
    ...(rows.length > limit && last ? { NextMarker: encodeMarker({ v: last.version }) } : {}),
  };
}

/** Each of the caller's layers with its newest version that matches the filters (layers without one are left out). */
export async function listLayers(scope: TenantScope, query: ListQuery): Promise<Json> {
  checkCompatibility({ runtime: query.runtime, architecture: query.architecture });
  const after = query.marker === undefined ? undefined : decodeMarker(query.marker, layerCursor).n;
  const latest = new Map<string, LayerVersionRow>();
  for (const row of await layers(scope).allVersions(after)) {
    if (!latest.has(row.layerName) && matches(row, query)) latest.set(row.layerName, row);
  }
  const all = [...latest.values()];
  const limit = Math.min(query.maxItems ?? LAYER_PAGE_CAP, LAYER_PAGE_CAP);
  const page = all.slice(0, limit);
  const last = page.at(-1);
  return {
    Layers: page.map((r) => ({
      LayerName: r.layerName,
      LayerArn: layerArn(refOf(scope, r.layerName)),
      LatestMatchingVersion: versionListItem(scope, r),
    })),
    ...(all.length > limit && last ? { NextMarker: encodeMarker({ n: last.layerName }) } : {}),
  };
}

/** Answered 204 whether or not the version exists, as AWS does (the model lists no ResourceNotFoundException). */
export async function deleteLayerVersion(scope: TenantScope, ref: LayerVersionRef): Promise<void> {
  ownOnly(scope, ref, "lambda:DeleteLayerVersion", layerVersionArn(ref));
  await layers(scope).markDeleted(ref.name, ref.version);
}

export async function addLayerVersionPermission(
  scope: TenantScope,
  ref: LayerVersionRef,
  input: AddLayerVersionPermissionInput,
  revisionId: string | undefined,
): Promise<Json> {
  const row = await policyTarget(scope, ref, "lambda:AddLayerVersionPermission");
  const store = layers(scope);
  const grants = await store.grants(ref.name, ref.version);
  if (grants.some((g) => g.statement.Sid === input.StatementId)) throw statementExists(input.StatementId);
  if (revisionId !== undefined && revisionId !== row.policyRevisionId) throw layerPolicyRevisionMismatch();
  const statement = layerStatement(input, layerVersionArn(ref));
  if (!(await store.addGrant(ref.name, ref.version, { principal: grantedAccount(input.Principal), statement }))) {
    throw statementExists(input.StatementId);
  }
  const after = await store.get(ref.name, ref.version);
  return { Statement: JSON.stringify(statement), RevisionId: after?.policyRevisionId ?? row.policyRevisionId };
}

export async function removeLayerVersionPermission(scope: TenantScope, ref: LayerVersionRef, sid: string, revisionId: string | undefined): Promise<void> {
  const row = await policyTarget(scope, ref, "lambda:RemoveLayerVersionPermission");
  if (revisionId !== undefined && revisionId !== row.policyRevisionId) throw layerPolicyRevisionMismatch();
  if (!(await layers(scope).removeGrant(ref.name, ref.version, sid))) throw statementNotFound(sid);
}

export async function getLayerVersionPolicy(scope: TenantScope, ref: LayerVersionRef): Promise<Json> {
  const row = await policyTarget(scope, ref, "lambda:GetLayerVersionPolicy");
  const grants = await layers(scope).grants(ref.name, ref.version);
  if (grants.length === 0) throw noPolicy();
  return {
    Policy: JSON.stringify({ Version: "2012-10-17", Id: "default", Statement: grants.map((g) => g.statement) }),
    RevisionId: row.policyRevisionId,
  };
}

// --- helpers ---------------------------------------------------------------

export interface ListQuery {
  marker: string | undefined;
  maxItems: number | undefined;
  runtime: string | undefined;
  architecture: string | undefined;
}

const versionCursor = z.object({ v: z.number().int().positive() });
const layerCursor = z.object({ n: z.string() });

function layers(scope: TenantScope): LayerStore {
  return new LayerStore(database(scope.env.DB), scope.principal.tenantId);
}

function refOf(scope: TenantScope, name: string): LayerRef {
  return { accountId: scope.principal.accountId, region: scope.names.region, name };
}

/** Operations only the owner may call: another account's layer is AWS's 403 for the action. */
function ownOnly(scope: TenantScope, ref: LayerRef, action: string, arn: string): void {
  if (ref.accountId !== scope.principal.accountId || ref.region !== scope.names.region) {
    throw layerAccessDenied(scope.principal.accountId, arn, action);
  }
}

/** A version the caller may read: its own (404 when missing), or another tenant's granted to it (403 otherwise). */
async function readable(scope: TenantScope, ref: LayerVersionRef): Promise<LayerVersionRow> {
  if (ref.accountId === scope.principal.accountId) {
    // The caller's own account in another region: cellfn serves one region, so nothing is there.
    const own = ref.region === scope.names.region ? await layers(scope).get(ref.name, ref.version) : undefined;
    if (!own) throw layerVersionNotFound();
    return own;
  }
  const granted = await grantedLayer(scope.env, scope.principal.accountId, ref);
  if (!granted) throw layerAccessDenied(scope.principal.accountId, layerVersionArn(ref));
  return granted;
}

/** The version whose policy an operation changes or reads: the caller's own, else 404 naming it. */
async function policyTarget(scope: TenantScope, ref: LayerVersionRef, action: string): Promise<LayerVersionRow> {
  ownOnly(scope, ref, action, layerVersionArn(ref));
  const row = await layers(scope).get(ref.name, ref.version);
  if (!row) throw layerVersionPolicyTargetMissing(layerVersionArn(ref));
  return row;
}

function matches(row: LayerVersionRow, query: Pick<ListQuery, "runtime" | "architecture">): boolean {
  if (query.runtime !== undefined && !(row.compatibleRuntimes ?? []).includes(query.runtime)) return false;
  if (query.architecture !== undefined && !(row.compatibleArchitectures ?? []).includes(query.architecture)) return false;
  return true;
}

function ownerRef(scope: TenantScope, row: LayerVersionRow, accountId: string): LayerVersionRef {
  return { accountId, region: scope.names.region, name: row.layerName, version: row.version };
}

/** The fields of a version shared by GetLayerVersion and the list items; optional ones only when set, as AWS. */
function versionFields(row: LayerVersionRow): Json {
  const out: Json = { Description: row.description, CreatedDate: row.createdDate, Version: row.version };
  if (row.compatibleRuntimes) out.CompatibleRuntimes = row.compatibleRuntimes;
  if (row.licenseInfo !== null) out.LicenseInfo = row.licenseInfo;
  if (row.compatibleArchitectures) out.CompatibleArchitectures = row.compatibleArchitectures;
  return out;
}

function versionListItem(scope: TenantScope, row: LayerVersionRow): Json {
  // AWS's order (CLI reference examples): the ARN and version number first.
  return { LayerVersionArn: layerVersionArn(ownerRef(scope, row, scope.principal.accountId)), Version: row.version, ...versionFields(row) };
}

/** PublishLayerVersion / GetLayerVersion(ByArn): Content.Location is a presigned download of the .zip, as GetFunction's. */
async function layerVersionOut(scope: TenantScope, row: LayerVersionRow, accountId: string, origin: string): Promise<Json> {
  const ref = ownerRef(scope, row, accountId);
  return {
    Content: {
      Location: await codeDownloadUrl(scope.env.KEY_DERIVATION_SECRET, origin, row.codeSha256),
      CodeSha256: row.codeSha256,
      CodeSize: row.codeSize,
    },
    LayerArn: layerArn(ref),
    LayerVersionArn: layerVersionArn(ref),
    ...versionFields(row),
  };
}

