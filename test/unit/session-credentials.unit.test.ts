import { describe, expect, it } from "vitest";
import { mintSessionCredentials, SESSION_TTL_S, verifySessionToken } from "../../src/auth/session-credentials";

const MASTER = "unit-master-secret";
const SUBJECT = { tenantId: "t-1", functionName: "fn", environmentId: "env-1" };

describe("session credentials", () => {
  it("verify to their claims and the secret they were minted with", async () => {
    const now = Date.UTC(2026, 0, 1);
    const minted = await mintSessionCredentials(MASTER, SUBJECT, now);
    const checked = await verifySessionToken(MASTER, minted.sessionToken, now + 1000);
    expect(checked).toEqual({
      kind: "valid",
      claims: { accessKeyId: minted.accessKeyId, tenantId: "t-1", functionName: "fn", expiresAt: now / 1000 + SESSION_TTL_S },
      secretAccessKey: minted.secretAccessKey,
    });
    expect(minted.expiration).toBe(new Date(now + SESSION_TTL_S * 1000).toISOString());
  });

  it("keep one access key id per environment, and differ between environments", async () => {
    const a = await mintSessionCredentials(MASTER, SUBJECT, 0);
    const b = await mintSessionCredentials(MASTER, SUBJECT, 60_000);
    const c = await mintSessionCredentials(MASTER, { ...SUBJECT, environmentId: "env-2" }, 0);
    expect(a.accessKeyId).toBe(b.accessKeyId);
    expect(a.sessionToken).not.toBe(b.sessionToken);
    expect(c.accessKeyId).not.toBe(a.accessKeyId);
  });

  it("expire at their expiry", async () => {
    const minted = await mintSessionCredentials(MASTER, SUBJECT, 0);
    expect((await verifySessionToken(MASTER, minted.sessionToken, SESSION_TTL_S * 1000 - 1)).kind).toBe("valid");
    expect(await verifySessionToken(MASTER, minted.sessionToken, SESSION_TTL_S * 1000)).toEqual({ kind: "expired" });
  });

  it("are invalid under another master secret, tampered, or malformed", async () => {
    const minted = await mintSessionCredentials(MASTER, SUBJECT, 0);
    expect(await verifySessionToken("other", minted.sessionToken, 0)).toEqual({ kind: "invalid" });
    const [prefix, body, mac] = minted.sessionToken.split(".");
    expect(await verifySessionToken(MASTER, `${prefix}.${body}x.${mac}`, 0)).toEqual({ kind: "invalid" });
    for (const token of ["", "a.b", "cellfn1.!!.!!", `other.${body}.${mac}`]) expect(await verifySessionToken(MASTER, token, 0)).toEqual({ kind: "invalid" });
  });
});
