import { afterEach, describe, expect, it, vi } from "vitest";
import {
  arnHash,
  deriveEgressSecret,
  invocationToken,
  lineageHeader,
  readLineage,
  signInvocationToken,
  verifyInvocationToken,
  withoutLineage,
} from "../../src/runtime/lineage";
import type { Lineage } from "../../src/runtime/lineage";

const SECRET = "egress-test-secret";
const lineage: Lineage = {
  requestId: "5f0c8a4e-1b2c-4d3e-9f60-0a1b2c3d4e5f",
  functionArn: "arn:aws:lambda:us-east-1:123456789012:function:echo",
  counts: { [arnHash("arn:aws:lambda:us-east-1:123456789012:function:echo")]: 3 },
};

/** Flips one character of a base64url string to another valid character. */
function flip(text: string, index: number): string {
  const c = text[index] === "A" ? "B" : "A";
  return text.slice(0, index) + c + text.slice(index + 1);
}

/** A token's signed chain part's payload and mac, and its (unsigned) request id part. */
function partsOf(token: string): { payload: string; mac: string; id: string } {
  const [chain = "", id = ""] = token.split("~");
  const [payload = "", mac = ""] = chain.split(".");
  return { payload, mac, id };
}

const toB64Url = (text: string) => btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

afterEach(() => {
  vi.useRealTimers();
});

describe("invocation token", () => {
  it("round-trips the lineage", async () => {
    const token = await signInvocationToken(SECRET, lineage);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+~.+$/);
    expect(await verifyInvocationToken(SECRET, token)).toEqual(lineage);
  });

  it("round-trips empty and many-function chains and odd request ids", async () => {
    const other = { requestId: "weird;id=ü", functionArn: "arn:aws:lambda:eu-west-1:1:function:x", counts: {} };
    expect(await verifyInvocationToken(SECRET, await signInvocationToken(SECRET, other))).toEqual(other);
    const many = { ...other, counts: { "0000000a": 1, "0000000b": 17, "0000000c": 2 } };
    expect(await verifyInvocationToken(SECRET, await signInvocationToken(SECRET, many))).toEqual(many);
  });

  it("refuses a token whose chain is not hash → count", async () => {
    const bad = { requestId: "r", functionArn: "arn:aws:lambda:eu-west-1:1:function:x", counts: { "not-a-hash": 1 } };
    expect(await verifyInvocationToken(SECRET, await signInvocationToken(SECRET, bad))).toBeNull();
    const negative = { ...bad, counts: { deadbeef: -1 } };
    expect(await verifyInvocationToken(SECRET, await signInvocationToken(SECRET, negative))).toBeNull();
  });

  it("refuses a token signed with another secret", async () => {
    const token = await signInvocationToken("some-other-secret", lineage);
    expect(await verifyInvocationToken(SECRET, token)).toBeNull();
  });

  it("refuses a tampered payload", async () => {
    const { payload, mac, id } = partsOf(await signInvocationToken(SECRET, lineage));
    expect(await verifyInvocationToken(SECRET, `${payload}.${mac}~${id}`)).toEqual(lineage);
    expect(await verifyInvocationToken(SECRET, `${flip(payload, 5)}.${mac}~${id}`)).toBeNull();
  });

  it("refuses a forged payload claiming a smaller count, even with a real mac of another token", async () => {
    const { payload, mac, id } = partsOf(await signInvocationToken(SECRET, lineage));
    const body = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
    const forged = toB64Url(JSON.stringify({ ...body, c: { [arnHash(lineage.functionArn)]: 1 } }));
    expect(await verifyInvocationToken(SECRET, `${forged}.${mac}~${id}`)).toBeNull();
  });

  it("refuses a tampered mac", async () => {
    const { payload, mac, id } = partsOf(await signInvocationToken(SECRET, lineage));
    expect(await verifyInvocationToken(SECRET, `${payload}.${flip(mac, 3)}~${id}`)).toBeNull();
    expect(await verifyInvocationToken(SECRET, `${payload}.${mac.slice(0, -2)}~${id}`)).toBeNull();
    expect(await verifyInvocationToken(SECRET, `${payload}.~${id}`)).toBeNull();
    expect(await verifyInvocationToken(SECRET, `${payload}.${mac}`)).toBeNull();
  });

  it.each(["", ".", "abc", "a.b.c", "!!!.???", "e30.e30", "e30.e30~id", "~id", "a.b~%E0%A4%A"])("refuses the malformed token %j", async (token) => {
    expect(await verifyInvocationToken(SECRET, token)).toBeNull();
  });

  it("refuses a correctly signed payload of the wrong shape", async () => {
    const payload = toB64Url(JSON.stringify({ r: "id", f: "arn", c: { deadbeef: -1 }, t: Math.floor(Date.now() / 1000) }));
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(payload)));
    const token = `${payload}.${toB64Url(String.fromCharCode(...mac))}~id`;
    expect(await verifyInvocationToken(SECRET, token)).toBeNull();
  });

  it("refuses a token older than the longest invocation", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-11-01T00:00:00Z"));
    const token = await signInvocationToken(SECRET, lineage);
    vi.setSystemTime(new Date("2026-11-01T00:10:00Z"));
    expect(await verifyInvocationToken(SECRET, token)).toEqual(lineage);
    vi.setSystemTime(new Date("2026-11-01T01:00:00Z"));
    expect(await verifyInvocationToken(SECRET, token)).toBeNull();
  });

  it("reuses one signed chain for the invocations of a function and chain, each with its own request id", async () => {
    const first = await invocationToken(SECRET, { ...lineage, requestId: "first-request" });
    const second = await invocationToken(SECRET, { ...lineage, requestId: "second-request" });
    expect(partsOf(second).payload).toBe(partsOf(first).payload);
    expect(partsOf(second).mac).toBe(partsOf(first).mac);
    expect(await verifyInvocationToken(SECRET, first)).toEqual({ ...lineage, requestId: "first-request" });
    expect(await verifyInvocationToken(SECRET, second)).toEqual({ ...lineage, requestId: "second-request" });
    // Another chain, another function or another key is signed apart.
    const deeper = { ...lineage, counts: { [arnHash(lineage.functionArn)]: 4 } };
    const other = await invocationToken(SECRET, deeper);
    expect(partsOf(other).mac).not.toBe(partsOf(first).mac);
    expect(await verifyInvocationToken(SECRET, other)).toEqual(deeper);
    const otherFunction = { ...lineage, functionArn: "arn:aws:lambda:us-east-1:123456789012:function:other" };
    expect(await verifyInvocationToken(SECRET, await invocationToken(SECRET, otherFunction))).toEqual(otherFunction);
    expect(await verifyInvocationToken(SECRET, await invocationToken("some-other-secret", lineage))).toBeNull();
  });

  it("signs a chain again after a minute, so that a token handed out lasts the longest invocation", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-11-02T00:00:00Z"));
    const signed = partsOf(await invocationToken(SECRET, lineage));
    vi.setSystemTime(new Date("2026-11-02T00:00:59Z"));
    const reused = await invocationToken(SECRET, lineage);
    expect(partsOf(reused).mac).toBe(signed.mac);
    // Handed out at 59 s, it still verifies when a 15-minute invocation ends.
    vi.setSystemTime(new Date("2026-11-02T00:15:59Z"));
    expect(await verifyInvocationToken(SECRET, reused)).toEqual(lineage);
    vi.setSystemTime(new Date("2026-11-02T00:01:00Z"));
    const fresh = await invocationToken(SECRET, lineage);
    expect(partsOf(fresh).mac).not.toBe(signed.mac);
    expect(await verifyInvocationToken(SECRET, fresh)).toEqual(lineage);
  });

  it("derives an egress secret that is not the master secret and depends on it", async () => {
    const derived = await deriveEgressSecret("master");
    expect(derived).not.toBe("master");
    expect(await deriveEgressSecret("master")).toBe(derived);
    expect(await deriveEgressSecret("other-master")).not.toBe(derived);
  });
});

describe("lineageHeader", () => {
  it("writes an X-Ray Root and a Lineage of the ARN hash and count", () => {
    const header = lineageHeader(lineage);
    expect(header).toMatch(/^Root=1-[0-9a-f]{8}-5f0c8a4e1b2c4d3e9f600a1b;Lineage=[0-9a-f]{8}:3$/);
    expect(readLineage(header)).toEqual(lineage.counts);
  });

  it("writes every function of the chain, largest count first, and reads them back", () => {
    const counts = { "0000000a": 1, "0000000b": 17, "0000000c": 2 };
    const header = lineageHeader({ ...lineage, counts });
    expect(header).toMatch(/;Lineage=0000000b:17\|0000000c:2\|0000000a:1$/);
    expect(readLineage(header)).toEqual(counts);
  });

  it("puts the current time in the Root's epoch part", () => {
    const root = /Root=1-([0-9a-f]{8})-/.exec(lineageHeader(lineage))?.[1] ?? "";
    expect(Math.abs(parseInt(root, 16) - Date.now() / 1000)).toBeLessThan(5);
  });

  it("hashes the ARN to 8 hex digits, differently per function", () => {
    expect(arnHash(lineage.functionArn)).toMatch(/^[0-9a-f]{8}$/);
    expect(arnHash(lineage.functionArn)).toBe(arnHash(lineage.functionArn));
    expect(arnHash(`${lineage.functionArn}2`)).not.toBe(arnHash(lineage.functionArn));
  });

  it("keeps an existing Root and its other fields, and replaces a Lineage written by user code", () => {
    const existing = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=deadbeef:0";
    const header = lineageHeader(lineage, existing);
    expect(header).toBe(`Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=${arnHash(lineage.functionArn)}:3`);
  });

  it("appends Lineage when the existing header has none", () => {
    const header = lineageHeader(lineage, "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0");
    expect(header).toBe(`Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0;Lineage=${arnHash(lineage.functionArn)}:3`);
  });

  it("starts a new Root when the existing header has no well-formed one", () => {
    const header = lineageHeader(lineage, "Root=garbage;Lineage=a87bd80c:1|68fd508a:5");
    expect(header).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Lineage=[0-9a-f]{8}:3$/);
  });

  it("uses a random Root when the request id is not hex enough", () => {
    const header = lineageHeader({ ...lineage, requestId: "short" });
    expect(header).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Lineage=/);
  });
});

describe("withoutLineage and readLineage", () => {
  it("drops only the Lineage field", () => {
    expect(withoutLineage("Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=deadbeef:0;Sampled=1")).toBe(
      "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
    );
    expect(withoutLineage("Lineage=deadbeef:0")).toBeNull();
  });

  it("reads nothing from headers without a well-formed Lineage field", () => {
    expect(readLineage("Root=1-5759e988-bd862e3fe1be46a994272793")).toBeNull();
    expect(readLineage("Lineage=nothex!!:1")).toBeNull();
    expect(readLineage("Lineage=deadbeef:1|")).toBeNull();
    expect(readLineage("Lineage=" + Array.from({ length: 11 }, (_, i) => `0000000${i.toString(16)}:1`).join("|"))).toBeNull();
  });

  it("reads the multi-function form seen in the wild", () => {
    expect(readLineage("Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=a87bd80c:1|68fd508a:5;Sampled=0")).toEqual({ a87bd80c: 1, "68fd508a": 5 });
  });
});
