import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { FunctionStore } from "../data/function-store";
import { TenantStore } from "../data/tenant-store";
import { database } from "../db/client";
import { tenantNotFound } from "../errors";
import { AssignmentPartition } from "../invoke/assignment-partition";
import { TenantQuota } from "../invoke/tenant-quota";

/** Functions read per page of the tenant's function list. */
const PAGE = 100;

/**
 * Operator view of the concurrency a tenant holds right now: the slots of
 * its unreserved pool (TenantQuota) and, per function, the leases its
 * assignment partition counts in flight and its busy environments. After
 * the tenant's traffic has stopped and every lease's lifetime has passed,
 * all of it must be 0 (`npm run chaos` and `npm run soak` check this).
 * Mounted inside the admin API, behind its operator token check.
 */
export const adminLeaseRoutes = new Hono<AppEnv>().get("/tenants/:tenantId/leases", async (c) => {
  const id = c.req.param("tenantId");
  const db = database(c.env.DB);
  if (!(await new TenantStore(db).getTenant(id))) throw tenantNotFound(id);
  const store = new FunctionStore(db, id);
  const functions: { functionName: string; inFlight: number; environments: number; busyEnvironments: number }[] = [];
  for (let after: string | undefined; ; ) {
    const page = await store.listLatest(after, PAGE);
    const snapshots = await Promise.all(page.map((row) => AssignmentPartition.of(c.env, id, row.functionName).snapshot()));
    page.forEach((row, i) => {
      const snap = snapshots[i];
      if (!snap) return;
      functions.push({
        functionName: row.functionName,
        inFlight: snap.inFlight,
        environments: snap.environments.length,
        busyEnvironments: snap.environments.filter((e) => e.busy).length,
      });
    });
    if (page.length < PAGE) break;
    after = page.at(-1)?.functionName;
  }
  const tenantInFlight = await TenantQuota.of(c.env, id).inFlight();
  const leasesInFlight = functions.reduce((n, f) => n + f.inFlight, 0);
  return c.json({ tenantId: id, tenantInFlight, leasesInFlight, functions });
});
