/**
 * The per-isolate caches of authentication on the warm path (src/auth/):
 * a key entry is read again by one request as it nears its expiry while
 * concurrent requests keep using it (never past its expiry), and a bearer
 * secret verified once is compared, not hashed, on the next request, but a
 * wrong secret is still refused.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { KEY_CACHE_TTL_MS, lookupKey, REFRESH_AHEAD_MS } from "../../src/auth/key-cache";
import { database } from "../../src/db/client";
import { bearer, BASE, errorOf, newTenant } from "../helpers/platform";

const setLimit = (tenantId: string, limit: number) =>
  env.DB.prepare("UPDATE tenants SET concurrency_limit = ? WHERE id = ?").bind(limit, tenantId).run();

/** A new tenant's key, read into the cache at t0, and its limit then changed in D1 behind the cache. */
async function cachedKeyThenChanged(by: number) {
  const key = await newTenant();
  const db = database(env.DB);
  const t0 = Date.now();
  const before = (await lookupKey(db, key.accessKeyId, t0))!.tenant.concurrencyLimit;
  await setLimit(key.tenantId, before + by);
  return { key, db, t0, before };
}

describe("key cache refresh ahead of expiry", () => {
  it("lets one request read again near the expiry while the others use the entry", async () => {
    const { key, db, t0, before } = await cachedKeyThenChanged(7);

    // Well before the expiry: the entry, no read.
    expect((await lookupKey(db, key.accessKeyId, t0 + KEY_CACHE_TTL_MS - REFRESH_AHEAD_MS - 1))!.tenant.concurrencyLimit).toBe(before);
    // In the last REFRESH_AHEAD_MS: the first caller reads D1, one arriving meanwhile still gets the entry.
    const near = t0 + KEY_CACHE_TTL_MS - REFRESH_AHEAD_MS + 1;
    const [refreshed, concurrent] = await Promise.all([lookupKey(db, key.accessKeyId, near), lookupKey(db, key.accessKeyId, near)]);
    expect(refreshed!.tenant.concurrencyLimit).toBe(before + 7);
    expect(concurrent!.tenant.concurrencyLimit).toBe(before);
    // The refreshed entry replaced the old one.
    expect((await lookupKey(db, key.accessKeyId, near + 1))!.tenant.concurrencyLimit).toBe(before + 7);
  });

  it("never serves an entry past its expiry", async () => {
    const { key, db, t0, before } = await cachedKeyThenChanged(3);
    const [a, b] = await Promise.all([lookupKey(db, key.accessKeyId, t0 + KEY_CACHE_TTL_MS), lookupKey(db, key.accessKeyId, t0 + KEY_CACHE_TTL_MS)]);
    expect(a!.tenant.concurrencyLimit).toBe(before + 3);
    expect(b!.tenant.concurrencyLimit).toBe(before + 3);
  });
});

describe("bearer secrets verified once", () => {
  it("still refuses a wrong secret after the right one was accepted, and accepts the right one again", async () => {
    const key = await newTenant();
    expect((await bearer(key, "GET", "/2015-03-31/functions")).status).toBe(200);
    const last = key.secretAccessKey.at(-1) === "A" ? "B" : "A";
    const forged = `${key.accessKeyId}.${key.secretAccessKey.slice(0, -1)}${last}`;
    const refused = await exports.default.fetch(`${BASE}/2015-03-31/functions`, { headers: { authorization: `Bearer ${forged}` } });
    expect(await errorOf(refused)).toMatchObject({ status: 403, type: "UnrecognizedClientException" });
    const shorter = await exports.default.fetch(`${BASE}/2015-03-31/functions`, { headers: { authorization: `Bearer ${key.accessKeyId}.${key.secretAccessKey.slice(0, -1)}` } });
    expect(await errorOf(shorter)).toMatchObject({ status: 403, type: "UnrecognizedClientException" });
    expect((await bearer(key, "GET", "/2015-03-31/functions")).status).toBe(200);
  });
});
