import { describe, expect, it } from "vitest";
import { claimedAccessKeyId, FailureLimiter, failureSubjects } from "../../src/auth/failure-limit";
import { sameSecret, timingSafeEqualText } from "../../src/auth/keys";

describe("FailureLimiter", () => {
  it("blocks a subject from the failure that reaches the limit, for blockMs", () => {
    const limiter = new FailureLimiter(3, 60_000, 60_000);
    limiter.fail("ip:1", 1_000);
    limiter.fail("ip:1", 2_000);
    expect(limiter.blockedFor("ip:1", 2_000)).toBe(0);
    limiter.fail("ip:1", 3_000);
    expect(limiter.blockedFor("ip:1", 3_000)).toBe(60_000);
    expect(limiter.blockedFor("ip:1", 62_999)).toBe(1);
    expect(limiter.blockedFor("ip:1", 63_000)).toBe(0);
    expect(limiter.blockedFor("ip:2", 3_000)).toBe(0);
  });

  it("counts failures per window: slow failures never block", () => {
    const limiter = new FailureLimiter(3, 60_000, 60_000);
    for (let t = 0; t < 10 * 60_000; t += 30_001) limiter.fail("key:A", t);
    expect(limiter.blockedFor("key:A", 10 * 60_000)).toBe(0);
  });

  it("keeps at most maxSubjects, pushing out blocked subjects last", () => {
    const limiter = new FailureLimiter(2, 60_000, 60_000, 4);
    limiter.fail("blocked", 0);
    limiter.fail("blocked", 0);
    for (let i = 0; i < 100; i++) limiter.fail(`flood:${i}`, 1_000 + i);
    expect(limiter.size).toBeLessThanOrEqual(4);
    expect(limiter.blockedFor("blocked", 2_000)).toBeGreaterThan(0);
  });
});

describe("failure subjects", () => {
  it("names the source IP when known and the claimed access key id", () => {
    expect(failureSubjects("203.0.113.9", "AKIAEXAMPLE")).toEqual(["ip:203.0.113.9", "key:AKIAEXAMPLE"]);
    expect(failureSubjects(null, "AKIAEXAMPLE")).toEqual(["key:AKIAEXAMPLE"]);
    expect(failureSubjects(null, null)).toEqual([]);
  });

  it("reads the key id from SigV4's Credential and from a bearer token, verifying nothing", () => {
    expect(claimedAccessKeyId("AWS4-HMAC-SHA256 Credential=AKIAXYZ/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00")).toBe("AKIAXYZ");
    expect(claimedAccessKeyId("AWS4-HMAC-SHA256 Credential=AKIAXYZ/20260101/us-east-1/lambda/aws4_request,SignedHeaders=host,Signature=00")).toBe("AKIAXYZ");
    expect(claimedAccessKeyId("Bearer AKIAXYZ.secret")).toBe("AKIAXYZ");
    expect(claimedAccessKeyId("Bearer nodot")).toBeNull();
    expect(claimedAccessKeyId("")).toBeNull();
  });
});

describe("secret comparisons", () => {
  it("timingSafeEqualText: equal only for the same text, any length difference refused", () => {
    expect(timingSafeEqualText("abc", "abc")).toBe(true);
    expect(timingSafeEqualText("abc", "abd")).toBe(false);
    expect(timingSafeEqualText("abc", "abcd")).toBe(false);
    expect(timingSafeEqualText("", "")).toBe(true);
    expect(timingSafeEqualText("é", "e\u0301")).toBe(false);
  });

  it("sameSecret: compares digests, so texts of different lengths are compared in constant time too", async () => {
    expect(await sameSecret("token-1", "token-1")).toBe(true);
    expect(await sameSecret("token-1", "token-2")).toBe(false);
    expect(await sameSecret("short", "a much longer admin token")).toBe(false);
  });
});
