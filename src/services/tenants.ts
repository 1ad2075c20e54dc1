import { forgetAllKeys, forgetKey } from "../auth/key-cache";
import { issueKey } from "../auth/keys";
import type { KeyRow, TenantChanges, TenantLimits, TenantRow, TenantStore } from "../data/tenant-store";
import { conflict, invalidParameter, serviceException } from "../errors";
import { DEFAULT_API_REQUEST_RATE, DEFAULT_CODE_STORAGE_BYTES, DEFAULT_SHARD_LIMIT } from "../lambda/quotas";
import { cellFor } from "../placement/cells";
import { minimumUnreserved } from "./function-concurrency";
import { forgetTenant } from "../invoke/target";

export const DEFAULT_CONCURRENCY_LIMIT = 1000;
const ACCOUNT_ID_ATTEMPTS = 5;

export type TenantView = Omit<TenantRow, "id"> & { tenantId: string };

export const tenantView = ({ id, ...rest }: TenantRow): TenantView => ({ tenantId: id, ...rest });

export const keyView = (k: KeyRow) => ({
  accessKeyId: k.accessKeyId,
  name: k.name,
  scope: k.scope,
  createdAt: k.createdAt,
});

/** A new tenant, with `limits` instead of the defaults (AWS's) where given. */
export async function createTenant(store: TenantStore, name: string, cellCount: number, limits: TenantLimits = {}): Promise<TenantRow> {
  if (await store.getTenantByName(name)) throw conflict(`Tenant already exists: ${name}`);
  const id = `t-${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  // Account ids are random; a clash (one in 10^12 per pair) is retried.
  for (let attempt = 0; attempt < ACCOUNT_ID_ATTEMPTS; attempt++) {
    const row: TenantRow = {
      id,
      name,
      accountId: randomAccountId(),
      cell: cellFor(id, cellCount),
      concurrencyLimit: DEFAULT_CONCURRENCY_LIMIT,
      createdAt: new Date().toISOString(),
      cellPinned: false,
      codeStorageLimit: DEFAULT_CODE_STORAGE_BYTES,
      shardLimit: DEFAULT_SHARD_LIMIT,
      apiRequestRate: DEFAULT_API_REQUEST_RATE,
      ...limits,
    };
    try {
      await store.insertTenant(row);
      return row;
    } catch (err) {
      if (await store.getTenantByName(name)) throw conflict(`Tenant already exists: ${name}`);
      if (attempt === ACCOUNT_ID_ATTEMPTS - 1) throw err;
    }
  }
  throw serviceException("Could not allocate an account id");
}

export async function createKey(store: TenantStore, tenantId: string, name: string, scope: "full" | "invoke", derivationSecret: string) {
  const issued = await issueKey(derivationSecret);
  const row: KeyRow = {
    accessKeyId: issued.accessKeyId,
    tenantId,
    name,
    scope,
    secretSalt: issued.salt,
    secretHash: issued.secretHash,
    createdAt: new Date().toISOString(),
  };
  await store.insertKey(row);
  return { ...keyView(row), secretAccessKey: issued.secretAccessKey, token: issued.token };
}

/**
 * Changes a tenant's settings (cached keys and invoke metadata carry the old
 * limit, so they are dropped). `cell` moves the tenant to another cell (new
 * async events go there; events already queued finish where they are);
 * `cell: null` returns it to its rendezvous-hashed cell.
 */
export interface TenantPatch {
  concurrencyLimit?: number | undefined;
  cell?: number | null | undefined;
  codeStorageLimit?: number | undefined;
  shardLimit?: number | undefined;
  apiRequestRate?: number | undefined;
}

export async function updateTenant(
  store: TenantStore,
  id: string,
  patch: TenantPatch,
  cellCount: number,
): Promise<TenantRow | undefined> {
  const changes: TenantChanges = {};
  if (patch.concurrencyLimit !== undefined) changes.concurrencyLimit = patch.concurrencyLimit;
  // Quotas take effect on the next create or publish (they are read there, never cached).
  if (patch.codeStorageLimit !== undefined) changes.codeStorageLimit = patch.codeStorageLimit;
  if (patch.shardLimit !== undefined) changes.shardLimit = patch.shardLimit;
  // The API request rate rides on the principal: it applies once the key caches below are dropped.
  if (patch.apiRequestRate !== undefined) changes.apiRequestRate = patch.apiRequestRate;
  if (patch.cell !== undefined) {
    if (patch.cell !== null && patch.cell >= cellCount) throw invalidParameter(`cell must be between 0 and ${cellCount - 1}`);
    Object.assign(changes, patch.cell === null ? { cell: cellFor(id, cellCount), cellPinned: false } : { cell: patch.cell, cellPinned: true });
  }
  if (Object.keys(changes).length === 0) return store.getTenant(id);
  const limit = changes.concurrencyLimit;
  const maxReserved = limit === undefined ? undefined : limit - minimumUnreserved(limit);
  const row = await store.updateTenant(id, changes, maxReserved);
  if (!row && limit !== undefined && (await store.getTenant(id))) {
    const reserved = await store.reservedConcurrency(id);
    throw invalidParameter(
      `concurrencyLimit ${limit} is too low: the tenant's functions reserve ${reserved} and ${minimumUnreserved(limit)} must stay unreserved. Lower or delete reservations (DeleteFunctionConcurrency) first.`,
    );
  }
  forgetAllKeys();
  forgetTenant(id);
  return row;
}

export async function revokeKey(store: TenantStore, tenantId: string, accessKeyId: string): Promise<boolean> {
  const deleted = await store.deleteKey(tenantId, accessKeyId);
  forgetKey(accessKeyId);
  return deleted;
}

function randomAccountId(): string {
  const digits = crypto.getRandomValues(new Uint8Array(12));
  // First digit 1-9 so the id never looks shorter than 12 digits to a tool that parses it as a number.
  return Array.from(digits, (d, i) => (i === 0 ? 1 + (d % 9) : d % 10)).join("");
}
