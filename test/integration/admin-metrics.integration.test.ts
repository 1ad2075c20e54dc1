import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, BASE, bearer, createFunctionBody, fn, newTenant, signed, waitUntilSettled } from "../helpers/platform";
import { arnOf, createQueue } from "../helpers/sqs";

/** `name{labels} value` lines of a Prometheus text answer, by metric name. */
function samples(text: string): Map<string, Array<{ labels: string; value: number }>> {
  const out = new Map<string, Array<{ labels: string; value: number }>>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const list = out.get(match[1]!) ?? [];
    list.push({ labels: match[2] ?? "", value: Number(match[3]) });
    out.set(match[1]!, list);
  }
  return out;
}

async function scrape() {
  const res = await admin("GET", "/metrics");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  return { text, by: samples(text) };
}

describe("GET /admin/metrics (operator metrics, Prometheus text format)", () => {
  it("needs the admin token: none, a wrong one and a tenant's key get 401", async () => {
    const key = await newTenant();
    expect((await exports.default.fetch(`${BASE}/admin/metrics`)).status).toBe(401);
    expect((await exports.default.fetch(`${BASE}/admin/metrics`, { headers: { authorization: "Bearer not-the-token" } })).status).toBe(401);
    expect((await bearer(key, "GET", "/admin/metrics")).status).toBe(401);
  });

  it("counts tenants and cells, names each tenant's unreserved concurrency, and follows a tenant sidelined by hand", async () => {
    const key = await newTenant();
    const tenants = (await (await admin("GET", "/tenants")).json<{ tenants: unknown[] }>()).tenants;
    const before = await scrape();
    expect(before.by.get("cellfn_tenants")).toEqual([{ labels: "", value: tenants.length }]);
    const cells = before.by.get("cellfn_cells")?.[0]?.value ?? 0;
    expect(cells).toBeGreaterThan(0);
    expect(before.by.get("cellfn_cell_sidelined_tenants")).toHaveLength(cells);
    const mine = before.by.get("cellfn_tenant_unreserved_in_flight")?.filter((s) => s.labels.includes(`tenant_id="${key.tenantId}"`));
    expect(mine).toEqual([{ labels: expect.stringContaining(`tenant_id="${key.tenantId}"`), value: 0 }]);
    for (const family of ["cellfn_admission_in_flight", "cellfn_admission_limit", "cellfn_admission_admitted_total"]) expect(before.by.get(family), family).toHaveLength(1);
    expect(before.by.get("cellfn_admission_refused_total")?.map((s) => s.labels).sort()).toEqual(['{rule="bound"}', '{rule="rate"}', '{rule="rateShare"}', '{rule="share"}']);

    const sidelined = await admin("PUT", `/tenants/${key.tenantId}/sideline`, { mode: "on" });
    expect(sidelined.status).toBe(200);
    const { cell } = await sidelined.json<{ cell: number }>();
    const count = (by: Map<string, Array<{ labels: string; value: number }>>) => by.get("cellfn_cell_sidelined_tenants")?.find((s) => s.labels === `{cell="${cell}"}`)?.value;
    const on = count((await scrape()).by) ?? 0;
    expect(on).toBeGreaterThanOrEqual(1);
    expect((await admin("PUT", `/tenants/${key.tenantId}/sideline`, { mode: "off" })).status).toBe(200);
    expect(count((await scrape()).by)).toBe(on - 1);
  });

  it("counts a tenant's event source mappings by the kind of source", async () => {
    const key = await newTenant();
    const mappings = async () =>
      (await scrape()).by.get("cellfn_tenant_event_source_mappings")?.filter((s) => s.labels.includes(`tenant_id="${key.tenantId}"`)).map((s) => `${/source="(\w+)"/.exec(s.labels)?.[1]}=${s.value}`).sort();
    expect(await mappings()).toEqual(["kinesis=0", "sqs=0"]);
    const name = `metrics-esm-${Date.now()}`;
    expect((await signed(key, "POST", "/2015-03-31/functions", createFunctionBody(name, { "index.js": "exports.handler = async () => null;" }))).status).toBe(201);
    await waitUntilSettled(key, name);
    await createQueue(key, "metrics-q");
    const created = await signed(key, "POST", "/2015-03-31/event-source-mappings", { FunctionName: name, EventSourceArn: arnOf(key, "metrics-q"), Enabled: false });
    expect(created.status).toBe(202);
    expect(await mappings()).toEqual(["kinesis=0", "sqs=1"]);
  });

  it("a cell's queue manager dates the events it counts: the oldest counted event's age per queue, gone once they are taken", async () => {
    const manager = env.QUEUE_MANAGER.getByName(`ages-test-${Date.now()}`);
    const queue = "cellfn-async-0-0";
    await manager.route({ tenantId: "t", candidates: [queue], sidelineQueue: "cellfn-async-0-sideline" });
    await manager.added({ "cellfn-async-0-lowpri": 2 });
    const counted = await manager.status();
    expect(counted.depths).toMatchObject({ [queue]: 1, "cellfn-async-0-lowpri": 2 });
    expect(Object.keys(counted.oldestAgeSeconds).sort()).toEqual(["cellfn-async-0-0", "cellfn-async-0-lowpri"]);
    expect(counted.oldestAgeSeconds[queue]).toBeGreaterThanOrEqual(0);
    await manager.settled({ [queue]: 1, "cellfn-async-0-lowpri": 1 });
    expect(Object.keys((await manager.status()).oldestAgeSeconds)).toEqual(["cellfn-async-0-lowpri"]);
  });

  it("counts Lambda throttles by their Reason", async () => {
    const key = await newTenant();
    const name = `metrics-throttled-${Date.now()}`;
    expect((await signed(key, "POST", "/2015-03-31/functions", createFunctionBody(name, { "index.js": "exports.handler = async () => 1;" }))).status).toBe(201);
    await waitUntilSettled(key, name);
    expect((await signed(key, "PUT", `/2017-10-31/functions/${name}/concurrency`, { ReservedConcurrentExecutions: 2 })).status).toBe(200);
    const leases = (await scrape()).by.get("cellfn_function_reserved_in_flight")?.filter((s) => s.labels.includes(`tenant_id="${key.tenantId}"`));
    expect(leases).toEqual([{ labels: `{tenant_id="${key.tenantId}",function="${name}"}`, value: 0 }]);
    expect((await signed(key, "PUT", `/2017-10-31/functions/${name}/concurrency`, { ReservedConcurrentExecutions: 0 })).status).toBe(200);
    const reserved = async () =>
      (await scrape()).by.get("cellfn_lambda_throttles_total")?.find((s) => s.labels === '{reason="ReservedFunctionConcurrentInvocationLimitExceeded"}')?.value ?? 0;
    const before = await reserved();
    const refused = await signed(key, "POST", `${fn(name)}/invocations`, {});
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ Reason: "ReservedFunctionConcurrentInvocationLimitExceeded" });
    expect(await reserved()).toBe(before + 1);
  });
});
