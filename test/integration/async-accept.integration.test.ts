import { env, exports } from "cloudflare:workers";
import { AwsClient } from "aws4fetch";
import { beforeAll, describe, expect, it } from "vitest";
import { FLOOD_MIN_EVENTS } from "../../src/placement/sideline";
import type { TenantKey } from "../helpers/platform";
import { admin, createFunctionBody, errorOf, fn, newTenant, signed, waitUntilSettled } from "../helpers/platform";

const echo = { "index.js": "exports.handler = async (event) => event;" };

async function event(key: TenantKey, name: string, body: string, headers: Record<string, string> = {}) {
  const client = new AwsClient({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, service: "lambda", region: "us-east-1" });
  const request = await client.sign(`http://cellfn.test${fn(name)}/invocations`, {
    method: "POST",
    headers: { "X-Amz-Invocation-Type": "Event", ...headers },
    body,
  });
  return exports.default.fetch(request);
}

async function acceptedRow(requestId: string | null) {
  return env.DB.prepare("SELECT * FROM async_events WHERE request_id = ?").bind(requestId).first<Record<string, unknown>>();
}

describe("accepting async events", () => {
  let key: TenantKey;

  beforeAll(async () => {
    key = await newTenant();
    await signed(key, "POST", "/2015-03-31/functions", createFunctionBody("accept", echo));
    await signed(key, "POST", "/2015-03-31/functions", createFunctionBody("zero", echo));
    await waitUntilSettled(key, "accept");
    await waitUntilSettled(key, "zero");
    await signed(key, "PUT", "/2017-10-31/functions/zero/concurrency", { ReservedConcurrentExecutions: 0 });
    await signed(key, "POST", "/2015-03-31/functions", createFunctionBody("isolated", echo, { TenancyConfig: { TenantIsolationMode: "PER_TENANT" } }));
    await waitUntilSettled(key, "isolated");
  });

  it("answers 202 with a request id and records the event", async () => {
    const res = await event(key, "accept", '{"n":1}');
    expect(res.status).toBe(202);
    expect(await res.text()).toBe("");
    const requestId = res.headers.get("x-amzn-RequestId");
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await acceptedRow(requestId)).toMatchObject({ tenant_id: key.tenantId, function_name: "accept" });
  });

  it("checks the function and qualifier before accepting, and accepts nothing it refuses", async () => {
    const missing = await event(key, "nope", "{}");
    expect(await errorOf(missing)).toMatchObject({ status: 404, type: "ResourceNotFoundException" });
    expect(await acceptedRow(missing.headers.get("x-amzn-RequestId"))).toBeNull();

    const badQualifier = await event(key, "accept:7", "{}");
    expect(await errorOf(badQualifier)).toMatchObject({ status: 404, type: "ResourceNotFoundException" });

    // Throttled to zero: accepted as on Lambda (the poller backs it off, then records ZeroReservedConcurrency).
    const zero = await event(key, "zero", "{}");
    expect(zero.status).toBe(202);
    expect(await acceptedRow(zero.headers.get("x-amzn-RequestId"))).not.toBeNull();

    const noTenant = await event(key, "isolated", "{}");
    expect(await errorOf(noTenant)).toMatchObject({ status: 400, type: "InvalidParameterValueException" });
    expect((await event(key, "isolated", "{}", { "X-Amz-Tenant-Id": "customer-a" })).status).toBe(202);
  });

  it("limits async payloads to 1 MB with Lambda's message", async () => {
    const body = JSON.stringify({ s: "x".repeat(1_048_576) });
    const res = await event(key, "accept", body);
    const error = await errorOf(res);
    expect(error).toMatchObject({ status: 413, type: "RequestEntityTooLargeException" });
    expect(error.message).toBe(`${body.length} byte payload is too large for the Event invocation type (limit 1048576 bytes)`);
    // Just under the limit is accepted (and stored in R2, too big for a queue message).
    const near = await event(key, "accept", JSON.stringify({ s: "x".repeat(1_000_000) }));
    expect(near.status).toBe(202);
    expect(await env.CODE.head(`async-payloads/${near.headers.get("x-amzn-RequestId")}`)).not.toBeNull();
  });

  it("hides another tenant's function", async () => {
    const other = await newTenant();
    expect(await errorOf(await event(other, "accept", "{}"))).toMatchObject({ status: 404, type: "ResourceNotFoundException" });
  });
});

describe("cells, sidelining and the operator API", () => {
  it("shows queue depths and sidelines a tenant by hand and back", async () => {
    const key = await newTenant();
    await signed(key, "POST", "/2015-03-31/functions", createFunctionBody("side", echo));
    await waitUntilSettled(key, "side");
    const tenant = await (await admin("GET", `/tenants/${key.tenantId}`)).json<{ cell: number }>();

    expect((await admin("PUT", `/tenants/${key.tenantId}/sideline`, { mode: "on" })).status).toBe(200);
    const cellBefore = await (await admin("GET", `/cells/${tenant.cell}`)).json<{ depths: Record<string, number> }>();
    expect((await event(key, "side", "{}")).status).toBe(202);
    const cellAfter = await (await admin("GET", `/cells/${tenant.cell}`)).json<{
      depths: Record<string, number>;
      tenants: Array<{ tenantId: string; mode: string; sidelined: boolean }>;
    }>();
    const sideline = `cellfn-async-${tenant.cell}-sideline`;
    expect((cellAfter.depths[sideline] ?? 0) - (cellBefore.depths[sideline] ?? 0)).toBeGreaterThanOrEqual(1);
    expect(cellAfter.tenants.find((t) => t.tenantId === key.tenantId)).toMatchObject({ mode: "on", sidelined: true });

    expect((await admin("PUT", `/tenants/${key.tenantId}/sideline`, { mode: "auto" })).status).toBe(200);
    expect((await admin("PUT", `/tenants/${key.tenantId}/sideline`, { mode: "maybe" })).status).toBe(400);
    expect((await admin("GET", "/cells/99")).status).toBe(404);
  });

  it("sidelines a flooding tenant automatically and keeps others on their shards", async () => {
    const manager = env.QUEUE_MANAGER.get(env.QUEUE_MANAGER.idFromName(`flood-test-${Date.now()}`));
    const candidates = ["cellfn-async-0-0", "cellfn-async-0-1"];
    const sidelineQueue = "cellfn-async-0-sideline";
    let floodSidelined = false;
    for (let i = 0; i < FLOOD_MIN_EVENTS + 50; i++) {
      const routed = await manager.route({ tenantId: "flooder", candidates, sidelineQueue });
      floodSidelined = routed.sidelined;
      if (i % 20 === 0) {
        const quiet = await manager.route({ tenantId: `quiet-${i}`, candidates, sidelineQueue });
        expect(quiet.sidelined).toBe(false);
        expect(candidates).toContain(quiet.queue);
      }
    }
    expect(floodSidelined).toBe(true);
    const status = await manager.status();
    expect(status.tenants.find((t) => t.tenantId === "flooder")?.sidelined).toBe(true);
  });

  it("moves a tenant to another cell and back to its hashed cell", async () => {
    const key = await newTenant();
    const before = await (await admin("GET", `/tenants/${key.tenantId}`)).json<{ cell: number }>();
    const target = (before.cell + 1) % 2;
    const moved = await (await admin("PATCH", `/tenants/${key.tenantId}`, { cell: target })).json<{ cell: number; cellPinned: boolean }>();
    expect(moved).toMatchObject({ cell: target, cellPinned: true });
    const back = await (await admin("PATCH", `/tenants/${key.tenantId}`, { cell: null })).json<{ cell: number; cellPinned: boolean }>();
    expect(back).toMatchObject({ cell: before.cell, cellPinned: false });
    expect((await admin("PATCH", `/tenants/${key.tenantId}`, { cell: 7 })).status).toBe(400);
  });

  it("changes and turns off the low-priority age", async () => {
    const res = await admin("PATCH", "/cells/0", { lowPriorityAfterSeconds: 120 });
    expect(await res.json()).toMatchObject({ lowPriorityAfterSeconds: 120 });
    expect(await (await admin("PATCH", "/cells/0", { lowPriorityAfterSeconds: null })).json()).toMatchObject({ lowPriorityAfterSeconds: null });
    await admin("PATCH", "/cells/0", { lowPriorityAfterSeconds: 30 });
  });
});
