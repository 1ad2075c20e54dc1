import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { makeZipBase64 } from "../fixtures/zips";
import type { TenantKey } from "../helpers/platform";
import { addKey, bearer, bundleContaining, createFunctionBody, errorOf, fn, getFunctionState, newTenant, signed, waitUntilSettled } from "../helpers/platform";

/**
 * Tenant isolation on every tenant-facing route. Tenant B owns `shared-name`
 * (version 1 published, alias `live`, reserved concurrency); tenant A owns
 * other functions and no `shared-name`. Whatever A sends, B's function is
 * invisible: by bare name A gets exactly the 404 it gets for a name that
 * exists nowhere, by B's ARN exactly the 403 it gets for any foreign ARN.
 */

type Call = (key: TenantKey, method: string, path: string, body?: unknown) => Promise<Response>;
type Method = "GET" | "POST" | "PUT" | "DELETE";

const SHARED = "shared-name";
/** Same length as SHARED, so even a Content-Length could not tell them apart. */
const ABSENT = "absent-name";
const B_RESERVED = 7;

/** Distinct per run, so the bundle of this file's code can be found in R2. */
const NONCE = `tenancy-${crypto.randomUUID()}`;
const CODE_B = { "index.js": `exports.handler = async (event) => ({ owner: "b", nonce: "${NONCE}", event });` };
const CODE_A = { "index.js": `exports.handler = async (event) => ({ owner: "a", event });` };
const CODE_OTHER = { "index.js": `exports.handler = async () => ({ owner: "attacker" });` };

const AUTHS: ReadonlyArray<readonly [string, Call]> = [
  ["SigV4", signed],
  ["bearer", bearer],
];

const concurrencyPath = (date: string, name: string) => `/${date}/functions/${encodeURIComponent(name)}/concurrency`;

interface Route {
  op: string;
  method: Method;
  path: (name: string) => string;
  body?: unknown;
}

/** Every tenant-facing route that names a function (CreateFunction / ListFunctions / GetAccountSettings are tested below). */
const ROUTES: readonly Route[] = [
  { op: "GetFunction", method: "GET", path: (n) => fn(n) },
  { op: "GetFunction Qualifier=1", method: "GET", path: (n) => `${fn(n)}?Qualifier=1` },
  { op: "GetFunction Qualifier=live", method: "GET", path: (n) => `${fn(n)}?Qualifier=live` },
  { op: "GetFunctionConfiguration", method: "GET", path: (n) => `${fn(n)}/configuration` },
  { op: "GetFunctionConfiguration Qualifier=1", method: "GET", path: (n) => `${fn(n)}/configuration?Qualifier=1` },
  { op: "GetFunctionConfiguration Qualifier=live", method: "GET", path: (n) => `${fn(n)}/configuration?Qualifier=live` },
  { op: "DeleteFunction", method: "DELETE", path: (n) => fn(n) },
  { op: "DeleteFunction Qualifier=1", method: "DELETE", path: (n) => `${fn(n)}?Qualifier=1` },
  { op: "UpdateFunctionCode", method: "PUT", path: (n) => `${fn(n)}/code`, body: { ZipFile: makeZipBase64(CODE_OTHER) } },
  {
    op: "UpdateFunctionConfiguration",
    method: "PUT",
    path: (n) => `${fn(n)}/configuration`,
    body: { Description: "changed by another tenant", Timeout: 60 },
  },
  { op: "PublishVersion", method: "POST", path: (n) => `${fn(n)}/versions`, body: {} },
  { op: "ListVersionsByFunction", method: "GET", path: (n) => `${fn(n)}/versions` },
  { op: "CreateAlias", method: "POST", path: (n) => `${fn(n)}/aliases`, body: { Name: "stolen", FunctionVersion: "1" } },
  { op: "GetAlias", method: "GET", path: (n) => `${fn(n)}/aliases/live` },
  { op: "UpdateAlias", method: "PUT", path: (n) => `${fn(n)}/aliases/live`, body: { FunctionVersion: "$LATEST" } },
  { op: "DeleteAlias", method: "DELETE", path: (n) => `${fn(n)}/aliases/live` },
  { op: "ListAliases", method: "GET", path: (n) => `${fn(n)}/aliases` },
  {
    op: "PutFunctionConcurrency",
    method: "PUT",
    path: (n) => concurrencyPath("2017-10-31", n),
    body: { ReservedConcurrentExecutions: 1 },
  },
  { op: "GetFunctionConcurrency", method: "GET", path: (n) => concurrencyPath("2019-09-30", n) },
  { op: "DeleteFunctionConcurrency", method: "DELETE", path: (n) => concurrencyPath("2017-10-31", n) },
  { op: "Invoke", method: "POST", path: (n) => `${fn(n)}/invocations`, body: { hello: "world" } },
  { op: "Invoke Qualifier=live", method: "POST", path: (n) => `${fn(n)}/invocations?Qualifier=live`, body: {} },
];

/** What a client can observe of an error response, with the given strings replaced by placeholders. */
interface Observed {
  status: number;
  type: string | null;
  headerNames: string[];
  hasRequestId: boolean;
  body: string;
}

async function observe(res: Response, replace: Record<string, string> = {}): Promise<Observed> {
  let body = await res.text();
  for (const [from, to] of Object.entries(replace)) body = body.replaceAll(from, to);
  return {
    status: res.status,
    type: res.headers.get("x-amzn-ErrorType"),
    headerNames: [...res.headers.keys()].sort(),
    hasRequestId: /^[0-9a-f-]{36}$/.test(res.headers.get("x-amzn-RequestId") ?? ""),
    body,
  };
}


async function ok(res: Response, status = 200): Promise<unknown> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  return text === "" ? null : JSON.parse(text);
}

async function createFunction(key: TenantKey, name: string, code: Record<string, string>, extra: Record<string, unknown> = {}) {
  await ok(await signed(key, "POST", "/2015-03-31/functions", createFunctionBody(name, code, extra)), 201);
  await waitUntilSettled(key, name);
}

/** Everything a tenant can read about one of its functions. */
async function functionState(key: TenantKey, name: string) {
  return {
    function: await getFunctionState(key, name),
    v1: await ok(await signed(key, "GET", `${fn(name)}/configuration?Qualifier=1`)),
    versions: await ok(await signed(key, "GET", `${fn(name)}/versions`)),
    aliases: await ok(await signed(key, "GET", `${fn(name)}/aliases`)),
    live: await ok(await signed(key, "GET", `${fn(name)}/aliases/live`)),
    concurrency: await ok(await signed(key, "GET", concurrencyPath("2019-09-30", name))),
  };
}

async function accountState(key: TenantKey) {
  return {
    functions: await listAll(key, true),
    settings: await ok(await signed(key, "GET", "/2016-08-19/account-settings")),
  };
}

interface FunctionItem {
  FunctionName: string;
  FunctionArn: string;
  Version: string;
  CodeSize: number;
}

/** Walks every page of ListFunctions. */
async function listAll(key: TenantKey, allVersions: boolean, maxItems?: number, call: Call = signed): Promise<FunctionItem[]> {
  const items: FunctionItem[] = [];
  let marker: string | undefined;
  for (let page = 0; page < 100; page++) {
    const q = new URLSearchParams();
    if (allVersions) q.set("FunctionVersion", "ALL");
    if (maxItems !== undefined) q.set("MaxItems", String(maxItems));
    if (marker !== undefined) q.set("Marker", marker);
    const res = await call(key, "GET", `/2015-03-31/functions?${q.toString()}`);
    expect(res.status).toBe(200);
    const body = await res.json<{ Functions: FunctionItem[]; NextMarker?: string }>();
    items.push(...body.Functions);
    if (body.NextMarker === undefined) return items;
    marker = body.NextMarker;
  }
  throw new Error("ListFunctions did not finish paging");
}


describe("tenant isolation", () => {
  let a: TenantKey;
  let b: TenantKey;
  let bArn: (name: string) => string;
  let bBefore: Awaited<ReturnType<typeof functionState>>;
  let bAccountBefore: Awaited<ReturnType<typeof accountState>>;

  beforeAll(async () => {
    [a, b] = await Promise.all([newTenant("full", "iso-a"), newTenant("full", "iso-b")]);
    bArn = (name) => `arn:aws:lambda:us-east-1:${b.accountId}:function:${name}`;

    // B: shared-name with version 1, alias live → 1, reserved concurrency; plus b-only.
    await createFunction(b, SHARED, CODE_B, { Publish: true, Description: "owned by b" });
    await ok(await signed(b, "POST", `${fn(SHARED)}/aliases`, { Name: "live", FunctionVersion: "1" }), 201);
    await ok(await signed(b, "PUT", concurrencyPath("2017-10-31", SHARED), { ReservedConcurrentExecutions: B_RESERVED }));
    await createFunction(b, "b-only", CODE_B);

    // A: two functions of its own whose names sort around B's, one with a published version.
    await createFunction(a, "a-own", CODE_A, { Publish: true });
    await createFunction(a, "c-own", CODE_A);

    bBefore = await functionState(b, SHARED);
    bAccountBefore = await accountState(b);
    expect(bBefore.concurrency).toEqual({ ReservedConcurrentExecutions: B_RESERVED });
  });

  describe.each(AUTHS)("with A's key over %s", (_auth, call) => {
    describe.each(ROUTES)("$op", (route) => {
      it(`by bare name: 404, identical to a name that exists nowhere`, async () => {
        const res = await call(a, route.method, route.path(SHARED), route.body);
        const absent = await call(a, route.method, route.path(ABSENT), route.body);

        const seen = await observe(res.clone(), { [SHARED]: "<name>" });
        const reference = await observe(absent.clone(), { [ABSENT]: "<name>" });
        expect(seen).toEqual(reference);

        const error = await errorOf(res);
        expect(error.status).toBe(404);
        expect(error.type).toBe("ResourceNotFoundException");
        expect(seen.hasRequestId).toBe(true);
        // The ARN in the message is the caller's own; nothing of B's leaks.
        expect(error.message).toContain(`:${a.accountId}:function:${SHARED}`);
        expect(seen.body).not.toContain(b.accountId);
      });

      it(`by B's full ARN: 403 AccessDeniedException, identical whether or not B has the function`, async () => {
        const res = await call(a, route.method, route.path(bArn(SHARED)), route.body);
        const absent = await call(a, route.method, route.path(bArn(ABSENT)), route.body);
        const unknownAccount = await call(
          a,
          route.method,
          route.path(`arn:aws:lambda:us-east-1:999999999999:function:${SHARED}`),
          route.body,
        );

        const seen = await observe(res.clone(), { [SHARED]: "<name>" });
        expect(seen).toEqual(await observe(absent, { [ABSENT]: "<name>" }));
        expect(seen).toEqual(await observe(unknownAccount, { [SHARED]: "<name>" }));

        const error = await errorOf(res);
        expect(error.status).toBe(403);
        expect(error.type).toBe("AccessDeniedException");
        expect(seen.hasRequestId).toBe(true);
        expect(seen.body).not.toContain(b.accountId);
      });

      it(`by B's partial ARN (<account>:function:<name>): 403 AccessDeniedException`, async () => {
        const res = await call(a, route.method, route.path(`${b.accountId}:function:${SHARED}`), route.body);
        const absent = await call(a, route.method, route.path(`${b.accountId}:function:${ABSENT}`), route.body);
        const seen = await observe(res.clone(), { [SHARED]: "<name>" });
        expect(seen).toEqual(await observe(absent, { [ABSENT]: "<name>" }));
        const error = await errorOf(res);
        expect(error.status).toBe(403);
        expect(error.type).toBe("AccessDeniedException");
      });
    });
  });

  // Control: the same read routes do reach B's function for B, so the 404s above are about ownership, not paths.
  it.each(ROUTES.filter((r) => r.method === "GET"))("control: B's own key reads $op by name and by ARN", async (route) => {
    for (const name of [SHARED, bArn(SHARED)]) {
      const res = await signed(b, route.method, route.path(name));
      expect(res.status).toBe(200);
    }
  });

  it("control: B's own key gets past the lookup on Invoke (not 404)", async () => {
    const res = await signed(b, "POST", `${fn(SHARED)}/invocations?Qualifier=live`, {});
    expect(res.status).not.toBe(404);
    expect(res.status).not.toBe(403);
  });

  it("B's function, versions, alias and concurrency are untouched after every attempt (checked with B's key)", async () => {
    expect(await functionState(b, SHARED)).toEqual(bBefore);
    expect(await accountState(b)).toEqual(bAccountBefore);
  });

  describe.each(AUTHS)("ListFunctions and GetAccountSettings with A's key over %s", (_auth, call) => {
    const expectOnlyA = (items: FunctionItem[]) => {
      for (const item of items) {
        expect(item.FunctionArn.startsWith(`arn:aws:lambda:us-east-1:${a.accountId}:function:`)).toBe(true);
        expect(item.FunctionArn).not.toContain(b.accountId);
      }
    };

    it("lists only A's functions", async () => {
      const items = await listAll(a, false, undefined, call);
      expect(items.map((f) => f.FunctionName)).toEqual(["a-own", "c-own"]);
      expectOnlyA(items);
    });

    it("lists only A's versions with FunctionVersion=ALL", async () => {
      const items = await listAll(a, true, undefined, call);
      expect(items.map((f) => `${f.FunctionName}:${f.Version}`)).toEqual(["a-own:$LATEST", "a-own:1", "c-own:$LATEST"]);
      expectOnlyA(items);
    });

    it("pages one item at a time without ever crossing into B's functions", async () => {
      const latest = await listAll(a, false, 1, call);
      expect(latest.map((f) => f.FunctionName)).toEqual(["a-own", "c-own"]);
      expectOnlyA(latest);
      const all = await listAll(a, true, 1, call);
      expect(all.map((f) => `${f.FunctionName}:${f.Version}`)).toEqual(["a-own:$LATEST", "a-own:1", "c-own:$LATEST"]);
      expectOnlyA(all);
    });

    it("a marker taken from B's listing only pages through A's functions", async () => {
      const bPage = await (await signed(b, "GET", "/2015-03-31/functions?MaxItems=1")).json<{ NextMarker?: string }>();
      expect(bPage.NextMarker).toBeDefined();
      const res = await call(a, "GET", `/2015-03-31/functions?Marker=${encodeURIComponent(bPage.NextMarker ?? "")}`);
      expect(res.status).toBe(200);
      const body = await res.json<{ Functions: FunctionItem[] }>();
      expectOnlyA(body.Functions);
      expect(body.Functions.map((f) => f.FunctionName)).not.toContain(SHARED);
      expect(body.Functions.map((f) => f.FunctionName)).not.toContain("b-only");
    });

    it("GetAccountSettings counts only A's functions, code and reservations", async () => {
      const versions = await listAll(a, true);
      const res = await call(a, "GET", "/2016-08-19/account-settings");
      expect(res.status).toBe(200);
      const settings = await res.json<{
        AccountLimit: { ConcurrentExecutions: number; UnreservedConcurrentExecutions: number };
        AccountUsage: { FunctionCount: number; TotalCodeSize: number };
      }>();
      expect(settings.AccountUsage.FunctionCount).toBe(2);
      expect(settings.AccountUsage.TotalCodeSize).toBe(versions.reduce((sum, v) => sum + v.CodeSize, 0));
      // B's reservation does not reduce A's unreserved concurrency.
      expect(settings.AccountLimit.UnreservedConcurrentExecutions).toBe(settings.AccountLimit.ConcurrentExecutions);

      const bSettings = await (await signed(b, "GET", "/2016-08-19/account-settings")).json<{
        AccountLimit: { ConcurrentExecutions: number; UnreservedConcurrentExecutions: number };
        AccountUsage: { FunctionCount: number };
      }>();
      expect(bSettings.AccountUsage.FunctionCount).toBe(2);
      expect(bSettings.AccountLimit.UnreservedConcurrentExecutions).toBe(bSettings.AccountLimit.ConcurrentExecutions - B_RESERVED);
    });
  });

  it("CreateFunction: another tenant creates its own shared-name independently and B's is untouched", async () => {
    const d = await newTenant("full", "iso-d");
    const bundleKey = await bundleContaining(NONCE);
    expect(bundleKey).toBeDefined();

    // Same name and the very same code as B's (so the same content-addressed bundle).
    const created = await bearer(d, "POST", "/2015-03-31/functions", createFunctionBody(SHARED, CODE_B, { Description: "owned by d" }));
    expect(created.status).toBe(201);
    const config = await created.json<{ FunctionArn: string; Description: string; Version: string }>();
    expect(config.FunctionArn).toBe(`arn:aws:lambda:us-east-1:${d.accountId}:function:${SHARED}`);
    expect(config.Description).toBe("owned by d");
    expect(config.Version).toBe("$LATEST");
    await waitUntilSettled(d, SHARED);

    // D sees its own function: no version 1, no alias, no reservation of B's.
    const dFunction = await (await signed(d, "GET", fn(SHARED))).json<Record<string, unknown>>();
    expect(dFunction).not.toHaveProperty("Concurrency");
    expect((await errorOf(await signed(d, "GET", `${fn(SHARED)}/configuration?Qualifier=1`))).status).toBe(404);
    expect((await errorOf(await signed(d, "GET", `${fn(SHARED)}/aliases/live`))).status).toBe(404);
    const dVersions = await (await signed(d, "GET", `${fn(SHARED)}/versions`)).json<{ Versions: FunctionItem[] }>();
    expect(dVersions.Versions.map((v) => v.Version)).toEqual(["$LATEST"]);
    expect(await functionState(b, SHARED)).toEqual(bBefore);

    // D changes and deletes its copy: B's function and B's code bundle stay.
    await ok(await signed(d, "PUT", concurrencyPath("2017-10-31", SHARED), { ReservedConcurrentExecutions: 3 }));
    await ok(await signed(d, "PUT", `${fn(SHARED)}/configuration`, { Description: "d changed it" }));
    expect(await functionState(b, SHARED)).toEqual(bBefore);
    expect((await signed(d, "DELETE", fn(SHARED))).status).toBe(204);
    expect((await errorOf(await signed(d, "GET", fn(SHARED)))).status).toBe(404);
    expect(await functionState(b, SHARED)).toEqual(bBefore);
    expect(await env.CODE.head(bundleKey ?? "")).not.toBeNull();

    // A still has no shared-name either.
    expect((await errorOf(await signed(a, "GET", fn(SHARED)))).status).toBe(404);
  });

  it("the same tenant cannot create shared-name twice, and B creating it again conflicts without changing it", async () => {
    const res = await signed(b, "POST", "/2015-03-31/functions", createFunctionBody(SHARED, CODE_OTHER));
    const error = await errorOf(res);
    expect(error.status).toBe(409);
    expect(error.type).toBe("ResourceConflictException");
    expect(await functionState(b, SHARED)).toEqual(bBefore);
  });
});

describe("invoke-only keys", () => {
  let full: TenantKey;
  let invoke: TenantKey;
  let before: { fn: Awaited<ReturnType<typeof functionState>>; account: Awaited<ReturnType<typeof accountState>> };

  const WRITES: readonly Route[] = [
    {
      op: "CreateFunction",
      method: "POST",
      path: () => "/2015-03-31/functions",
      body: createFunctionBody("created-by-invoke-key", CODE_OTHER),
    },
    { op: "UpdateFunctionCode", method: "PUT", path: (n) => `${fn(n)}/code`, body: { ZipFile: makeZipBase64(CODE_OTHER) } },
    { op: "UpdateFunctionConfiguration", method: "PUT", path: (n) => `${fn(n)}/configuration`, body: { Description: "changed" } },
    { op: "DeleteFunction", method: "DELETE", path: (n) => fn(n) },
    { op: "DeleteFunction Qualifier=1", method: "DELETE", path: (n) => `${fn(n)}?Qualifier=1` },
    { op: "PublishVersion", method: "POST", path: (n) => `${fn(n)}/versions`, body: { Description: "v2" } },
    { op: "CreateAlias", method: "POST", path: (n) => `${fn(n)}/aliases`, body: { Name: "other", FunctionVersion: "1" } },
    { op: "UpdateAlias", method: "PUT", path: (n) => `${fn(n)}/aliases/live`, body: { FunctionVersion: "$LATEST" } },
    { op: "DeleteAlias", method: "DELETE", path: (n) => `${fn(n)}/aliases/live` },
    {
      op: "PutFunctionConcurrency",
      method: "PUT",
      path: (n) => concurrencyPath("2017-10-31", n),
      body: { ReservedConcurrentExecutions: 1 },
    },
    { op: "DeleteFunctionConcurrency", method: "DELETE", path: (n) => concurrencyPath("2017-10-31", n) },
  ];

  const READS: readonly Route[] = [
    { op: "GetFunction", method: "GET", path: (n) => fn(n) },
    { op: "GetFunctionConfiguration", method: "GET", path: (n) => `${fn(n)}/configuration?Qualifier=live` },
    { op: "ListFunctions", method: "GET", path: () => "/2015-03-31/functions" },
    { op: "ListVersionsByFunction", method: "GET", path: (n) => `${fn(n)}/versions` },
    { op: "ListAliases", method: "GET", path: (n) => `${fn(n)}/aliases` },
    { op: "GetAlias", method: "GET", path: (n) => `${fn(n)}/aliases/live` },
    { op: "GetFunctionConcurrency", method: "GET", path: (n) => concurrencyPath("2019-09-30", n) },
    { op: "GetAccountSettings", method: "GET", path: () => "/2016-08-19/account-settings" },
  ];

  beforeAll(async () => {
    full = await newTenant("full", "iso-scope");
    const key = await addKey(full.tenantId, "invoke");
    invoke = { tenantId: full.tenantId, accountId: full.accountId, ...key };
    await createFunction(full, "mine", CODE_A, { Publish: true });
    await ok(await signed(full, "POST", `${fn("mine")}/aliases`, { Name: "live", FunctionVersion: "1" }), 201);
    await ok(await signed(full, "PUT", concurrencyPath("2017-10-31", "mine"), { ReservedConcurrentExecutions: 3 }));
    before = { fn: await functionState(full, "mine"), account: await accountState(full) };
  });

  describe.each(AUTHS)("over %s", (_auth, call) => {
    it.each(WRITES)("$op → 403 AccessDeniedException, nothing changed", async (route) => {
      const res = await call(invoke, route.method, route.path("mine"), route.body);
      expect(res.headers.get("x-amzn-RequestId")).toMatch(/^[0-9a-f-]{36}$/);
      const error = await errorOf(res);
      expect(error.status).toBe(403);
      expect(error.type).toBe("AccessDeniedException");
      expect(error.message).toContain("invoke");
      expect(await functionState(full, "mine")).toEqual(before.fn);
      expect(await accountState(full)).toEqual(before.account);
    });

    it.each(READS)("$op → 200 for its own function", async (route) => {
      const res = await call(invoke, route.method, route.path("mine"));
      expect(res.status).toBe(200);
    });

    it("GetFunction returns its own function's configuration", async () => {
      const body = await (await call(invoke, "GET", fn("mine"))).json<{ Configuration: { FunctionArn: string } }>();
      expect(body.Configuration.FunctionArn).toBe(`arn:aws:lambda:us-east-1:${full.accountId}:function:mine`);
    });

    it("Invoke is not refused for scope", async () => {
      const res = await call(invoke, "POST", `${fn("mine")}/invocations`, {});
      expect(res.headers.get("x-amzn-ErrorType")).not.toBe("AccessDeniedException");
      expect(res.status).not.toBe(403);
    });
  });

  it("after every refused write the tenant's state is exactly as before", async () => {
    expect(await functionState(full, "mine")).toEqual(before.fn);
    expect(await accountState(full)).toEqual(before.account);
    expect((await listAll(full, true)).map((f) => f.FunctionName)).not.toContain("created-by-invoke-key");
  });
});
