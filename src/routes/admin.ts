import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { recordAuthFailure, refuseIfBlocked, sourceIp } from "../auth/authenticate";
import { sameSecret } from "../auth/keys";
import { TenantStore } from "../data/tenant-store";
import { database } from "../db/client";
import { adminUnauthorized, keyNotFound, tenantNotFound } from "../errors";
import { MAX_API_REQUEST_RATE, MAX_CODE_STORAGE_BYTES, MAX_SHARD_LIMIT } from "../lambda/quotas";
import { parseJsonBody } from "../lambda/validation";
import { adminCellRoutes } from "./admin-cells";
import { adminLeaseRoutes } from "./admin-leases";
import { adminMetricsRoutes } from "./admin-metrics";
import { createKey, createTenant, keyView, revokeKey, tenantView, updateTenant } from "../services/tenants";

/** Limits and quotas an operator sets on a tenant (src/lambda/quotas.ts), at creation or later. */
const tenantLimits = {
  concurrencyLimit: z.int().min(0).max(1_000_000).optional(),
  /** Bytes of code and layers. */
  codeStorageLimit: z.int().min(0).max(MAX_CODE_STORAGE_BYTES).optional(),
  /** Open Kinesis shards. */
  shardLimit: z.int().min(0).max(MAX_SHARD_LIMIT).optional(),
  /** Control-plane requests a second per API (Lambda's 15; GetFunction at least 100). */
  apiRequestRate: z.int().min(1).max(MAX_API_REQUEST_RATE).optional(),
};
const createTenantSchema = z.strictObject({ name: z.string().min(1).max(64).regex(/^[a-zA-Z0-9-_.]+$/), ...tenantLimits });
const patchTenantSchema = z.strictObject({
  ...tenantLimits,
  /** Move to a cell (pinned), or null to return to the hashed cell. */
  cell: z.int().min(0).nullable().optional(),
});
const createKeySchema = z.strictObject({
  name: z.string().min(1).max(128),
  scope: z.enum(["full", "invoke"]).default("full"),
});


const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization") ?? "";
  const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
  const expected = c.env.ADMIN_TOKEN;
  // The admin token's failures count per source IP, apart from tenants' (a key id names no operator).
  const ip = sourceIp(c.req.raw);
  const subjects = ip === null ? [] : [`admin-ip:${ip}`];
  refuseIfBlocked(subjects);
  if (!expected || !token || !(await sameSecret(token, expected))) {
    recordAuthFailure(subjects);
    throw adminUnauthorized();
  }
  await next();
});

/** Operator API: tenants and their keys, and the cells' async queues. */
export const adminRoutes = new Hono<AppEnv>()
  .use(requireAdmin)
  .route("/", adminCellRoutes)
  .route("/", adminLeaseRoutes)
  .route("/", adminMetricsRoutes)
  .post("/tenants", async (c) => {
    const input = parseJsonBody(createTenantSchema, await c.req.text());
    const { name, ...limits } = input;
    const row = await createTenant(new TenantStore(database(c.env.DB)), name, Number(c.env.CELL_COUNT), limits);
    return c.json(tenantView(row), 201);
  })
  .get("/tenants", async (c) => {
    const rows = await new TenantStore(database(c.env.DB)).listTenants();
    return c.json({ tenants: rows.map(tenantView) });
  })
  .get("/tenants/:tenantId", async (c) => {
    const id = c.req.param("tenantId");
    const row = await new TenantStore(database(c.env.DB)).getTenant(id);
    if (!row) throw tenantNotFound(id);
    return c.json(tenantView(row));
  })
  .patch("/tenants/:tenantId", async (c) => {
    const id = c.req.param("tenantId");
    const patch = parseJsonBody(patchTenantSchema, await c.req.text());
    const row = await updateTenant(new TenantStore(database(c.env.DB)), id, patch, Number(c.env.CELL_COUNT));
    if (!row) throw tenantNotFound(id);
    return c.json(tenantView(row));
  })
  .post("/tenants/:tenantId/keys", async (c) => {
    const id = c.req.param("tenantId");
    const input = parseJsonBody(createKeySchema, await c.req.text());
    const store = new TenantStore(database(c.env.DB));
    if (!(await store.getTenant(id))) throw tenantNotFound(id);
    return c.json(await createKey(store, id, input.name, input.scope, c.env.KEY_DERIVATION_SECRET), 201);
  })
  .get("/tenants/:tenantId/keys", async (c) => {
    const id = c.req.param("tenantId");
    const store = new TenantStore(database(c.env.DB));
    if (!(await store.getTenant(id))) throw tenantNotFound(id);
    return c.json({ keys: (await store.listKeys(id)).map(keyView) });
  })
  .delete("/tenants/:tenantId/keys/:accessKeyId", async (c) => {
    const { tenantId, accessKeyId } = c.req.param();
    const deleted = await revokeKey(new TenantStore(database(c.env.DB)), tenantId, accessKeyId);
    if (!deleted) throw keyNotFound(accessKeyId);
    return c.body(null, 204);
  });
