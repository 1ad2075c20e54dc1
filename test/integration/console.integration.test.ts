import { exports } from "cloudflare:workers";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { recordInvocationLog } from "../../src/logs/ingest";
import type { TenantKey } from "../helpers/platform";
import { BASE, createActive, createFunctionBody, fn, newTenant, signed } from "../helpers/platform";

// The web console inside workerd: sign-in and its session cookie, pages for
// the tenant and the operator, the strict CSP, CSRF refusals, and that a
// tenant's session never shows another tenant's functions or logs.

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

async function consoleFetch(path: string, init: RequestInit & { cookie?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.cookie) headers.set("cookie", init.cookie);
  return exports.default.fetch(`${BASE}/console${path}`, { ...init, headers, redirect: "manual" });
}

async function signInAs(fields: Record<string, string>): Promise<{ res: Response; cookie: string }> {
  const res = await consoleFetch("/login", { method: "POST", body: form(fields), headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE } });
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  return { res, cookie };
}

const csrfOf = (html: string) => /name="csrf" value="([0-9a-f]+)"/.exec(html)?.[1] ?? "";

let owner: TenantKey;
let other: TenantKey;
const name = `console-${Date.now()}`;

beforeAll(async () => {
  owner = await newTenant();
  other = await newTenant();
  await createActive(owner, createFunctionBody(name, { "index.js": `exports.handler = async () => { console.log("from-console-test"); return { ok: true }; };` }));
  expect((await signed(owner, "POST", `${fn(name)}/invocations`, {})).status).toBe(200);
}, 60_000);

describe("console sign-in", () => {
  it("signs a tenant in with key id and secret, sets an HttpOnly SameSite=Strict cookie, and lists its functions", async () => {
    const { res, cookie } = await signInAs({ accessKeyId: owner.accessKeyId, secret: owner.secretAccessKey, adminToken: "" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/functions");
    const setCookie = res.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toContain(owner.secretAccessKey);

    const page = await consoleFetch("/functions", { cookie });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain(`data-function="${name}"`);
    expect(html).not.toContain("<script>");
  });

  it("accepts the bearer token in the key field, and refuses a wrong secret", async () => {
    expect((await signInAs({ accessKeyId: owner.token, secret: "", adminToken: "" })).res.status).toBe(303);
    const wrong = await signInAs({ accessKeyId: owner.accessKeyId, secret: "not-it", adminToken: "" });
    expect(wrong.res.status).toBe(401);
    expect(wrong.cookie).toBe("");
    expect(await wrong.res.text()).toContain("not accepted");
  });

  it("sends a signed-out visitor to the sign-in page, and refuses a forged cookie", async () => {
    const res = await consoleFetch("/functions");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/login");
    const forged = await consoleFetch("/functions", { cookie: "cellfn_console=eyJrIjoidGVuYW50In0.AAAA" });
    expect(forged.status).toBe(303);
  });
});

describe("tenant pages", () => {
  it("shows the function page with charts of its real invocations and its log lines", async () => {
    const { cookie } = await signInAs({ accessKeyId: owner.accessKeyId, secret: owner.secretAccessKey, adminToken: "" });
    let html = "";
    for (let i = 0; i < 50; i++) {
      html = await (await consoleFetch(`/functions/${name}`, { cookie })).text();
      if (/data-total="[1-9]/.test(html)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(html).toContain("<h1>" + name + "</h1>");
    expect(html).toMatch(/<figure class="chart" data-chart="[^"]*Invocations[^"]*" data-total="1"/);
    const logs = await consoleFetch(`/functions/${name}/logs`, { cookie });
    const body = await logs.json<{ lines: Array<{ message: string }>; after: string }>();
    expect(body.lines.some((l) => l.message.includes("from-console-test"))).toBe(true);
    // The live tail goes on by ingestion (StartLiveTail's cursor): nothing new yet, then a line shipped late, with an earlier timestamp.
    const tail = async (after: string) => (await consoleFetch(`/functions/${name}/logs?after=${after}`, { cookie })).json<{ lines: Array<{ message: string }>; after: string }>();
    expect(await tail(body.after)).toEqual({ lines: [], after: body.after });
    await recordInvocationLog(env, { tenantId: owner.tenantId, logGroup: `/aws/lambda/${name}`, logStream: "late", lines: [{ timestamp: Date.now() - 60_000, message: "shipped late" }] });
    const next = await tail(body.after);
    expect(next.lines.map((l) => l.message)).toEqual(["shipped late"]);
    expect(Number(next.after)).toBeGreaterThan(Number(body.after));
  });

  it("never shows another tenant's function, logs, or test invoke", async () => {
    const { cookie } = await signInAs({ accessKeyId: other.accessKeyId, secret: other.secretAccessKey, adminToken: "" });
    const list = await (await consoleFetch("/functions", { cookie })).text();
    expect(list).not.toContain(name);
    expect((await consoleFetch(`/functions/${name}`, { cookie })).status).toBe(404);
    expect((await consoleFetch(`/functions/${name}/logs`, { cookie })).status).toBe(404);
    const page = await (await consoleFetch("/functions", { cookie })).text();
    const invoke = await consoleFetch(`/functions/${name}/invoke`, {
      method: "POST",
      cookie,
      body: form({ csrf: csrfOf(page), payload: "{}" }),
      headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE },
    });
    expect(invoke.status).toBe(404);
  });

  it("test-invokes from the form with the session's token, and refuses a post without it or from another origin", async () => {
    const { cookie } = await signInAs({ accessKeyId: owner.accessKeyId, secret: owner.secretAccessKey, adminToken: "" });
    const page = await (await consoleFetch(`/functions/${name}`, { cookie })).text();
    const headers = { "content-type": "application/x-www-form-urlencoded", origin: BASE };
    const ok = await consoleFetch(`/functions/${name}/invoke`, { method: "POST", cookie, headers, body: form({ csrf: csrfOf(page), payload: "{}" }) });
    expect(ok.status).toBe(200);
    const html = await ok.text();
    expect(html).toContain('id="invoke-result"');
    expect(html).toContain("{&quot;ok&quot;:true}");
    const noToken = await consoleFetch(`/functions/${name}/invoke`, { method: "POST", cookie, headers, body: form({ payload: "{}" }) });
    expect(noToken.status).toBe(403);
    const crossSite = await consoleFetch(`/functions/${name}/invoke`, {
      method: "POST",
      cookie,
      headers: { ...headers, origin: "https://evil.example" },
      body: form({ csrf: csrfOf(page), payload: "{}" }),
    });
    expect(crossSite.status).toBe(403);
  });

  it("keeps a tenant out of the operator page", async () => {
    const { cookie } = await signInAs({ accessKeyId: owner.accessKeyId, secret: owner.secretAccessKey, adminToken: "" });
    const res = await consoleFetch("/operator", { cookie });
    expect(res.status).toBe(303);
  });
});

describe("operator page", () => {
  it("shows cells with queue depths and tenants with their last hour", async () => {
    const { res, cookie } = await signInAs({ accessKeyId: "", secret: "", adminToken: env.ADMIN_TOKEN });
    expect(res.headers.get("location")).toBe("/console/operator");
    const html = await (await consoleFetch("/operator", { cookie })).text();
    expect(html).toContain('data-cell="0"');
    expect(html).toContain("cellfn-async-0-0");
    expect(html).toContain(`data-tenant="${owner.tenantId}"`);
    expect((await signInAs({ accessKeyId: "", secret: "", adminToken: "wrong" })).res.status).toBe(401);
  });

  it("serves uPlot and the console script as same-origin assets", async () => {
    const script = await consoleFetch("/assets/uplot.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toContain("javascript");
    expect(await script.text()).toContain("uPlot");
    expect((await consoleFetch("/assets/secrets.txt")).status).toBe(404);
  });
});
