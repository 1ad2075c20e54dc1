import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { TenantStore } from "../data/tenant-store";
import { database } from "../db/client";
import { QueueManager } from "../async/queue-manager";
import { cellNotFound, tenantNotFound } from "../errors";
import { parseJsonBody } from "../lambda/validation";

const sidelineSchema = z.strictObject({ mode: z.enum(["on", "off", "auto"]) });
const cellPatchSchema = z.strictObject({ lowPriorityAfterSeconds: z.int().min(1).max(21_600).nullable() });

function cellParam(env: Env, raw: string): number {
  const cell = Number(raw);
  const count = Number(env.CELL_COUNT);
  if (!Number.isInteger(cell) || cell < 0 || cell >= count) {
    throw cellNotFound(raw, count);
  }
  return cell;
}

/**
 * Operator view of the async machinery: per cell, queue depths, tenants'
 * event rates and sideline state, and the low-priority age; and the switches
 * to sideline a tenant by hand (or return it to automatic) and to change or
 * turn off the low-priority move. Moving a tenant to another cell is
 * `PATCH /admin/tenants/{id} {"cell": n}`. Mounted inside the admin API
 * (src/routes/admin.ts), behind its operator token check.
 */
export const adminCellRoutes = new Hono<AppEnv>()
  .get("/cells", async (c) => c.json({ cells: await QueueManager.allCells(c.env) }))
  .get("/cells/:cell", async (c) => {
    const cell = cellParam(c.env, c.req.param("cell"));
    return c.json({ cell, ...(await QueueManager.ofCell(c.env, cell).status()) });
  })
  .patch("/cells/:cell", async (c) => {
    const cell = cellParam(c.env, c.req.param("cell"));
    const input = parseJsonBody(cellPatchSchema, await c.req.text());
    await QueueManager.ofCell(c.env, cell).setLowPriorityAfter(input.lowPriorityAfterSeconds);
    return c.json({ cell, ...(await QueueManager.ofCell(c.env, cell).status()) });
  })
  .put("/tenants/:tenantId/sideline", async (c) => {
    const id = c.req.param("tenantId");
    const input = parseJsonBody(sidelineSchema, await c.req.text());
    const tenant = await new TenantStore(database(c.env.DB)).getTenant(id);
    if (!tenant) throw tenantNotFound(id);
    const cell = tenant.cell % Number(c.env.CELL_COUNT);
    await QueueManager.ofCell(c.env, cell).setSidelineMode(id, input.mode);
    return c.json({ tenantId: id, cell, mode: input.mode });
  });
