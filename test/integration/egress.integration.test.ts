import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { INVOCATION_HEADER } from "../../src/runtime/markers";
import { arnHash, deriveEgressSecret, readLineage, signInvocationToken } from "../../src/runtime/lineage";

// A Dynamic Worker whose only job is to fetch() what it is told, as user code
// would, through whatever globalOutbound it was loaded with.
const FETCHER = `
import { WorkerEntrypoint } from "cloudflare:workers";
export default class extends WorkerEntrypoint {
  async get(url, headers) {
    try {
      const res = await fetch(url, { headers });
      return { status: res.status, body: await res.text() };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  }
}`;

type FetchResult = { status: number; body: string } | { error: string };
interface Fetcher extends Rpc.WorkerEntrypointBranded {
  get(url: string, headers?: Record<string, string>): Promise<FetchResult>;
}

const FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:egress-test";

function loadFetcher(allowPrivateEgress: boolean, functionArn = FUNCTION_ARN) {
  const gateway = exports.EgressGateway({ props: { allowPrivateEgress, functionArn } });
  const worker = env.LOADER.load({
    compatibilityDate: "2026-11-01",
    compatibilityFlags: ["nodejs_compat"],
    mainModule: "fetcher.js",
    modules: { "fetcher.js": FETCHER },
    globalOutbound: gateway,
  });
  return worker.getEntrypoint<Fetcher>();
}

/** A token of an invocation that is the `count`th run of FUNCTION_ARN in its chain. */
async function token(count: number, functionArn = FUNCTION_ARN): Promise<string> {
  const secret = await deriveEgressSecret(env.KEY_DERIVATION_SECRET);
  return signInvocationToken(secret, { requestId: crypto.randomUUID(), functionArn, counts: { [arnHash(functionArn)]: count } });
}

// MOCK of the destinations. They are outside cellfn (the internet, or a
// developer's local server), so the test stands in for them at the edge of
// the product: the gateway forwards with the global fetch(), which in this
// isolate (the main worker shares it with the tests) is replaced by a spy
// that records the request and answers. Requests to other hosts pass through.
const MOCKED_HOSTS = new Set(["127.0.0.1:9999", "public.example.com", "redirector.example.com"]);
let received: Request[] = [];

beforeEach(() => {
  received = [];
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (!MOCKED_HOSTS.has(url.host)) return realFetch(input, init);
    received.push(request);
    if (url.host === "redirector.example.com") {
      return new Response(null, { status: 302, headers: { location: url.searchParams.get("to") ?? "/" } });
    }
    return new Response(`hello from ${url.host}${url.pathname}`);
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("egress gateway: private destinations", () => {
  it.each([
    ["http://127.0.0.1:9999/", "127.0.0.1"],
    ["http://localhost:8787/", "localhost"],
    ["http://169.254.169.254/latest/meta-data/", "169.254.169.254"],
    ["http://[::1]:9999/", "[::1]"],
    ["http://2130706433:9999/", "127.0.0.1"],
  ])("refuses %s when private egress is off: the user's fetch() rejects", async (url, host) => {
    const result = await loadFetcher(false).get(url);
    expect(result).toEqual({
      error: `cellfn: egress to ${host} is blocked: private and loopback addresses are not reachable from functions (set ALLOW_PRIVATE_EGRESS=true for local development)`,
    });
    expect(received).toHaveLength(0);
  });

  it("reaches a loopback server when private egress is on (local development)", async () => {
    const result = await loadFetcher(true).get("http://127.0.0.1:9999/hello");
    expect(result).toEqual({ status: 200, body: "hello from 127.0.0.1:9999/hello" });
    expect(received).toHaveLength(1);
  });

  it("reaches a public destination when private egress is off", async () => {
    const result = await loadFetcher(false).get("https://public.example.com/x");
    expect(result).toEqual({ status: 200, body: "hello from public.example.com/x" });
  });

  it("checks every redirect hop: a public URL redirecting to a private one is refused", async () => {
    const target = encodeURIComponent("http://127.0.0.1:9999/secret");
    const result = await loadFetcher(false).get(`https://redirector.example.com/?to=${target}`);
    expect(result).toEqual({ error: expect.stringContaining("cellfn: egress to 127.0.0.1 is blocked") });
    expect(received.map((r) => new URL(r.url).host)).toEqual(["redirector.example.com"]);
  });

  it("follows a redirect between public destinations", async () => {
    const target = encodeURIComponent("https://public.example.com/after");
    const result = await loadFetcher(false).get(`https://redirector.example.com/?to=${target}`);
    expect(result).toEqual({ status: 200, body: "hello from public.example.com/after" });
    expect(received).toHaveLength(2);
  });
});

describe("egress gateway: invocation lineage", () => {
  function arrived(): Request {
    expect(received).toHaveLength(1);
    const [request] = received;
    if (!request) throw new Error("no request reached the destination");
    return request;
  }

  it("stamps X-Amzn-Trace-Id with the lineage of a valid token and removes the token", async () => {
    const result = await loadFetcher(false).get("https://public.example.com/", { [INVOCATION_HEADER]: await token(4) });
    expect(result).toMatchObject({ status: 200 });
    const request = arrived();
    const trace = request.headers.get("x-amzn-trace-id") ?? "";
    expect(trace).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Lineage=[0-9a-f]{8}:4$/);
    expect(readLineage(trace)).toEqual({ [arnHash(FUNCTION_ARN)]: 4 });
    expect(request.headers.has(INVOCATION_HEADER)).toBe(false);
  });

  it("keeps the user's Root and replaces the Lineage it wrote", async () => {
    const headers = {
      [INVOCATION_HEADER]: await token(2),
      "X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1;Lineage=deadbeef:0",
    };
    await loadFetcher(false).get("https://public.example.com/", headers);
    expect(arrived().headers.get("x-amzn-trace-id")).toBe(
      `Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1;Lineage=${arnHash(FUNCTION_ARN)}:2`,
    );
  });

  it("stamps nothing for a tampered token, and the token never reaches the destination", async () => {
    const [payload = "", mac = ""] = (await token(4)).split(".");
    const tampered = `${payload}.${mac.startsWith("A") ? "B" : "A"}${mac.slice(1)}`;
    await loadFetcher(false).get("https://public.example.com/", { [INVOCATION_HEADER]: tampered });
    const request = arrived();
    expect(request.headers.has("x-amzn-trace-id")).toBe(false);
    expect(request.headers.has(INVOCATION_HEADER)).toBe(false);
  });

  it("stamps nothing for a token signed with the raw master secret instead of the derived key", async () => {
    const forged = await signInvocationToken(env.KEY_DERIVATION_SECRET, { requestId: "r", functionArn: FUNCTION_ARN, counts: { [arnHash(FUNCTION_ARN)]: 1 } });
    await loadFetcher(false).get("https://public.example.com/", { [INVOCATION_HEADER]: forged });
    expect(arrived().headers.has("x-amzn-trace-id")).toBe(false);
  });

  it("stamps nothing for a valid token of another function", async () => {
    const other = await token(1, "arn:aws:lambda:us-east-1:123456789012:function:someone-else");
    await loadFetcher(false).get("https://public.example.com/", { [INVOCATION_HEADER]: other });
    expect(arrived().headers.has("x-amzn-trace-id")).toBe(false);
  });

  it("without a token (e.g. at module init) stamps no lineage and drops a Lineage the user wrote", async () => {
    const headers = { "X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=deadbeef:0" };
    const result = await loadFetcher(false).get("https://public.example.com/", headers);
    expect(result).toMatchObject({ status: 200 });
    expect(arrived().headers.get("x-amzn-trace-id")).toBe("Root=1-5759e988-bd862e3fe1be46a994272793");
  });

  it("removes the internal header from a request to a private destination too (private egress on)", async () => {
    await loadFetcher(true).get("http://127.0.0.1:9999/", { [INVOCATION_HEADER]: await token(1) });
    const request = arrived();
    expect(request.headers.has(INVOCATION_HEADER)).toBe(false);
    expect(readLineage(request.headers.get("x-amzn-trace-id") ?? "")).toEqual({ [arnHash(FUNCTION_ARN)]: 1 });
  });
});
