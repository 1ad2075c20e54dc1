import { type CodeLayers, mergeLayers, NO_LAYERS } from "../code/layers";
import { unzipCode } from "../code/zip";
import { LayerStore, type LayerVersionRow } from "../data/layer-store";
import { TenantStore } from "../data/tenant-store";
import { database } from "../db/client";
import { functionLayerMissing, invalidParameter, layerAccessDenied } from "../errors";
import type { StoredConfig, StoredLayer } from "../lambda/function-config";
import { checkLayerList, duplicateLayer, grantsLayer, type LayerVersionRef, layerVersionArn } from "../lambda/layers";
import type { TenantScope } from "./scope";

/**
 * A function's `Layers` (CreateFunction / UpdateFunctionConfiguration):
 * each entry must name a layer version that exists, the caller's own or
 * another tenant's that its policy grants to the caller's account (else
 * AWS's 403, which says nothing of whether it exists). What is stored is the
 * version's immutable package, so the function keeps what it named even if
 * the version is deleted or the grant removed later, as on AWS.
 */
export async function resolveFunctionLayers(scope: TenantScope, arns: readonly string[]): Promise<StoredLayer[]> {
  const refs = checkLayerList(arns, scope.names);
  const resolved: StoredLayer[] = [];
  for (const [index, ref] of refs.entries()) {
    const row = await usableLayer(scope, ref);
    const duplicate = duplicateLayer(refs.slice(0, index + 1));
    if (duplicate !== undefined) throw invalidParameter(duplicate);
    resolved.push({ Arn: layerVersionArn(ref), CodeSize: row.codeSize, CodeSha256: row.codeSha256, UnzippedSize: row.unzippedSize });
  }
  return resolved;
}

/** The caller's own layer version, or another tenant's granted to it. */
export async function usableLayer(scope: TenantScope, ref: LayerVersionRef): Promise<LayerVersionRow> {
  const arn = layerVersionArn(ref);
  const db = database(scope.env.DB);
  if (ref.accountId === scope.principal.accountId) {
    const own = await new LayerStore(db, scope.principal.tenantId).get(ref.name, ref.version);
    if (!own) throw functionLayerMissing(arn);
    return own;
  }
  const granted = await grantedLayer(scope.env, scope.principal.accountId, ref);
  if (!granted) throw layerAccessDenied(scope.principal.accountId, arn);
  return granted;
}

/** Another tenant's layer version when its policy grants it to `callerAccountId`; null otherwise (missing included). */
export async function grantedLayer(env: Env, callerAccountId: string, ref: LayerVersionRef): Promise<LayerVersionRow | null> {
  const db = database(env.DB);
  const owner = await new TenantStore(db).getTenantByAccountId(ref.accountId);
  if (!owner || ref.region !== env.REGION) return null;
  const store = new LayerStore(db, owner.id);
  const row = await store.get(ref.name, ref.version);
  if (!row) return null;
  return grantsLayer(await store.grants(ref.name, ref.version), callerAccountId) ? row : null;
}

/** The contents of a configuration's layers, for bundling: each package from R2, unzipped, merged in order into /opt. */
export async function layerContents(scope: TenantScope, config: Pick<StoredConfig, "Layers" | "Runtime">): Promise<CodeLayers> {
  const layers = config.Layers ?? [];
  if (layers.length === 0) return NO_LAYERS;
  const contents = [];
  for (const layer of layers) {
    const zip = await scope.code.getZip(layer.CodeSha256);
    if (!zip) throw new Error(`the package of layer version ${layer.Arn} is not stored`);
    contents.push(unzipCode(zip));
  }
  return mergeLayers(contents, config.Runtime);
}

/** Whether two configurations name the same layer versions in the same order. */
export function sameLayers(a: StoredConfig, b: StoredConfig): boolean {
  const arns = (c: StoredConfig) => (c.Layers ?? []).map((l) => l.Arn).join("\n");
  return arns(a) === arns(b);
}
