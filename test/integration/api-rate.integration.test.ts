import { describe, expect, it } from "vitest";
import type { TenantKey } from "../helpers/platform";
import { admin, createActive, createFunctionBody, fn, newTenant, signed } from "../helpers/platform";

const ECHO = { "index.js": "exports.handler = async (event) => event;" };
/** Lambda's control-plane rate: 15 requests a second per API (GetFunction 100). */
const AWS_RATE = { apiRequestRate: 15 };

interface Answer {
  status: number;
  type: string | null;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

/**
 * `n` requests made by `request(i)` from 8 closed loops (never more in
 * flight, so the door's per-caller share of a busy isolate, a 429 of its
 * own, never answers them): the answers in order of i, and the seconds they took.
 */
async function burst(n: number, request: (i: number) => Promise<Response>) {
  const started = Date.now();
  const answers: Answer[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < n; i = next++) {
        const res = await request(i);
        const text = await res.text();
        answers[i] = { status: res.status, type: res.headers.get("x-amzn-ErrorType"), retryAfter: res.headers.get("Retry-After"), body: text === "" ? {} : JSON.parse(text) };
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  const refused = answers.filter((a) => a.status === 429);
  return { answers, accepted: answers.length - refused.length, refused, seconds };
}

const listFunctions = (key: TenantKey) => signed(key, "GET", "/2015-03-31/functions");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Accepted within one second's burst plus what refilled while the requests ran (and one for rounding). */
function expectWithinRate(accepted: number, perSecond: number, seconds: number): void {
  expect(accepted).toBeGreaterThanOrEqual(perSecond);
  expect(accepted).toBeLessThanOrEqual(perSecond + Math.ceil(perSecond * seconds) + 1);
}

describe("control-plane request rate quota (Lambda's 15 requests a second per API)", () => {
  it("a new tenant starts at Lambda's 15; the admin API sets it at creation or later, and refuses bad values", async () => {
    const name = `api-rate-${crypto.randomUUID().slice(0, 8)}`;
    const created = await (await admin("POST", "/tenants", { name })).json<{ tenantId: string; apiRequestRate: number }>();
    expect(created.apiRequestRate).toBe(15);
    for (const bad of [0, 1.5, "fast", 1_000_001]) {
      expect((await admin("PATCH", `/tenants/${created.tenantId}`, { apiRequestRate: bad })).status).toBe(400);
      expect((await admin("POST", "/tenants", { name: `${name}-bad`, apiRequestRate: bad })).status).toBe(400);
    }
    const patched = await admin("PATCH", `/tenants/${created.tenantId}`, { apiRequestRate: 40 });
    expect(await patched.json()).toMatchObject({ apiRequestRate: 40 });
    expect((await admin("GET", "/tenants")).status).toBe(200);
    expect(((await (await admin("GET", "/tenants")).json<{ tenants: Array<{ name: string }> }>()).tenants.map((t) => t.name))).not.toContain(`${name}-bad`);
  });

  it("refuses an API past 15 a second with Lambda's 429 CallerRateLimitExceeded; other APIs, invocations and other tenants are not counted", async () => {
    const key = await newTenant("full", "api-rate", AWS_RATE);
    const other = await newTenant("full", "api-rate-other", AWS_RATE);
    await createActive(key, createFunctionBody("echo", ECHO));
    await sleep(1100); // the create's own requests refill

    const flood = await burst(40, () => listFunctions(key));
    expectWithinRate(flood.accepted, 15, flood.seconds);
    expect(flood.refused.length).toBeGreaterThan(0);
    for (const answer of flood.refused) {
      expect(answer).toEqual({
        status: 429,
        type: "TooManyRequestsException",
        retryAfter: "1",
        body: { Type: "User", message: "Rate exceeded", Reason: "CallerRateLimitExceeded" },
      });
    }
    for (const answer of flood.answers.filter((a) => a.status !== 429)) expect(answer.status).toBe(200);

    // Meanwhile: another API of the same tenant, its invocations, and another tenant's same API.
    expect((await signed(key, "GET", "/2018-10-31/layers")).status).toBe(200);
    const invokes = await burst(30, () => signed(key, "POST", `${fn("echo")}/invocations`, "{}"));
    expect(invokes.answers.map((a) => a.status)).toEqual(Array(30).fill(200));
    expect((await listFunctions(other)).status).toBe(200);

    // Refilled a second later.
    await sleep(1100);
    expect((await listFunctions(key)).status).toBe(200);
  });

  // The cases below count what a full bucket lets through and bound what refills, so that a slow
  // (loaded) machine, whose requests take longer, cannot turn a refusal into an acceptance.
  it("GetFunction has 100 a second whatever the tenant's lower rate; a refused CreateFunction creates nothing", async () => {
    const key = await newTenant("full", "api-rate-get", { apiRequestRate: 5 });
    await createActive(key, createFunctionBody("echo", ECHO));
    await sleep(1100);

    // A full bucket of 100: all of them (at the tenant's 5, at most 5 and the refill would be).
    const gets = await burst(100, () => signed(key, "GET", fn("echo")));
    expect(gets.accepted).toBe(100);
    // GetFunctionConfiguration is another API, at the tenant's 5.
    const configs = await burst(25, () => signed(key, "GET", `${fn("echo")}/configuration`));
    expectWithinRate(configs.accepted, 5, configs.seconds);
    expect(configs.refused.length).toBeGreaterThan(0);

    const creates = await burst(25, (i) => signed(key, "POST", "/2015-03-31/functions", createFunctionBody(`f-${i}`, ECHO)));
    expectWithinRate(creates.accepted, 5, creates.seconds);
    expect(creates.refused.length).toBeGreaterThan(0);
    const acceptedNames = creates.answers.flatMap((a, i) => (a.status === 201 ? [`f-${i}`] : []));
    expect(acceptedNames.length).toBe(creates.accepted);
    await sleep(1100);
    const listed = await (await listFunctions(key)).json<{ Functions: Array<{ FunctionName: string }> }>();
    expect(listed.Functions.map((f) => f.FunctionName).sort()).toEqual(["echo", ...acceptedNames].sort());
  });

  it("an operator's higher rate applies at once (its bucket fills to the new size within a second)", async () => {
    const key = await newTenant("full", "api-rate-raised", AWS_RATE);
    const before = await burst(40, () => listFunctions(key));
    expectWithinRate(before.accepted, 15, before.seconds);
    expect((await admin("PATCH", `/tenants/${key.tenantId}`, { apiRequestRate: 60 })).status).toBe(200);
    await sleep(1100);
    // A full bucket of 60: all of them.
    const raised = await burst(60, () => listFunctions(key));
    expect(raised.accepted).toBe(60);
  });
});
