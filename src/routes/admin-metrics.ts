import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { QueueManager } from "../async/queue-manager";
import { TenantStore } from "../data/tenant-store";
import { FunctionStore } from "../data/function-store";
import { database } from "../db/client";
import { EventSourceDirectory } from "../event-sources/directory-object";
import { AssignmentPartition } from "../invoke/assignment-partition";
import { doorStats } from "../invoke/door";
import { TenantQuota } from "../invoke/tenant-quota";
import { EXPOSITION_CONTENT_TYPE, type MetricFamily, renderExposition } from "../metrics/openmetrics";
import { throttlesByReason } from "../metrics/throttle-reasons";

/**
 * `GET /admin/metrics`: the platform's operator metrics in the Prometheus
 * text format, for a scraper (Prometheus, Grafana Agent, an OpenMetrics
 * collector) holding the admin token: per cell its async queues' depths and
 * oldest events' ages, sidelined tenants and low-priority age; per tenant the
 * unreserved concurrency held right now and its event source mappings (each
 * one a poller); leases held by functions with reserved concurrency; the
 * admission gate of the isolate that answered (requests in flight, its bound,
 * admissions, refusals by rule); and Lambda throttles by Reason.
 * Tenants' Lambda metrics stay behind the tenant-scoped CloudWatch API.
 * Mounted inside the admin API, behind its operator token check.
 */
export const adminMetricsRoutes = new Hono<AppEnv>().get("/metrics", async (c) => {
  const db = database(c.env.DB);
  const [cells, tenants] = await Promise.all([QueueManager.allCells(c.env), new TenantStore(db).listTenants()]);
  const [inFlight, mappings, reserved] = await Promise.all([
    Promise.all(tenants.map((t) => TenantQuota.of(c.env, t.id).inFlight())),
    Promise.all(tenants.map((t) => EventSourceDirectory.of(c.env, t.id).counts())),
    // Leases of functions with reserved concurrency live in their partitions only (one call per such function).
    Promise.all(
      tenants.map(async (t) => {
        const names = await new FunctionStore(db, t.id).listReservedNames();
        const snapshots = await Promise.all(names.map((name) => AssignmentPartition.of(c.env, t.id, name).snapshot()));
        return names.map((name, i) => ({ name, inFlight: snapshots[i]?.inFlight ?? 0 }));
      }),
    ),
  ]);
  const door = doorStats();
  const families: MetricFamily[] = [
    { name: "cellfn_cells", help: "Cells the platform runs (CELL_COUNT).", type: "gauge", samples: [{ value: cells.length }] },
    { name: "cellfn_tenants", help: "Tenants.", type: "gauge", samples: [{ value: tenants.length }] },
    {
      name: "cellfn_cell_queue_depth",
      help: "Async events sent to a cell's queue and not yet taken off it, as the cell's queue manager counts them.",
      type: "gauge",
      samples: cells.flatMap(({ cell, depths }) => Object.entries(depths).map(([queue, n]) => ({ labels: { cell, queue }, value: n }))),
    },
    {
      name: "cellfn_cell_queue_oldest_age_seconds",
      help: "Age of the oldest event still counted on a cell's queue, taking events off oldest first (an estimate: Cloudflare Queues deliver roughly in order).",
      type: "gauge",
      samples: cells.flatMap(({ cell, oldestAgeSeconds }) => Object.entries(oldestAgeSeconds).map(([queue, s]) => ({ labels: { cell, queue }, value: s }))),
    },
    {
      name: "cellfn_cell_sidelined_tenants",
      help: "Tenants whose async events go to the cell's sideline queue.",
      type: "gauge",
      samples: cells.map(({ cell, tenants: rates }) => ({ labels: { cell }, value: rates.filter((t) => t.sidelined).length })),
    },
    {
      name: "cellfn_cell_low_priority_after_seconds",
      help: "Age after which a cell's backlog moves to its low-priority queue (absent when the move is off).",
      type: "gauge",
      samples: cells.flatMap(({ cell, lowPriorityAfterSeconds }) => (lowPriorityAfterSeconds === null ? [] : [{ labels: { cell }, value: lowPriorityAfterSeconds }])),
    },
    {
      name: "cellfn_tenant_unreserved_in_flight",
      help: "Invocations holding a slot of the tenant's unreserved concurrency now.",
      type: "gauge",
      samples: tenants.map((t, i) => ({ labels: { tenant_id: t.id, tenant: t.name }, value: inFlight[i] ?? 0 })),
    },
    {
      name: "cellfn_function_reserved_in_flight",
      help: "Leases held now by a function with reserved concurrency (counted by its assignment partition; other functions' leases are the tenant's unreserved slots).",
      type: "gauge",
      samples: tenants.flatMap((t, i) => (reserved[i] ?? []).map((f) => ({ labels: { tenant_id: t.id, function: f.name }, value: f.inFlight }))),
    },
    {
      name: "cellfn_tenant_event_source_mappings",
      help: "Event source mappings of the tenant (each polled by its own poller), by the kind of source.",
      type: "gauge",
      samples: tenants.flatMap((t, i) => (["sqs", "kinesis"] as const).map((source) => ({ labels: { tenant_id: t.id, tenant: t.name, source }, value: mappings[i]?.[source] ?? 0 }))),
    },
    { name: "cellfn_admission_in_flight", help: "Requests past the admission gate and not yet answered, in the isolate that answered this scrape.", type: "gauge", samples: [{ value: door.inFlight }] },
    { name: "cellfn_admission_limit", help: "The admission gate's bound on requests in flight, in this isolate.", type: "gauge", samples: [{ value: door.limit }] },
    { name: "cellfn_admission_admitted_total", help: "Requests the admission gate let in, in this isolate since it started.", type: "counter", samples: [{ value: door.admitted }] },
    {
      name: "cellfn_admission_refused_total",
      help: "Requests the admission gate answered with a throttle (429 or the service's throttling error), by the rule that refused, in this isolate since it started.",
      type: "counter",
      samples: Object.entries(door.refusedBy).map(([rule, n]) => ({ labels: { rule }, value: n })),
    },
    {
      name: "cellfn_lambda_throttles_total",
      help: "Invocations refused with Lambda's 429 before any code ran, by its Reason, in this isolate since it started.",
      type: "counter",
      samples: throttlesByReason().map(([reason, n]) => ({ labels: { reason }, value: n })),
    },
  ];
  return c.body(renderExposition(families), 200, { "content-type": EXPOSITION_CONTENT_TYPE });
});
