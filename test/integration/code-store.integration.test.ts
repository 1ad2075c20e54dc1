import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CodeStore } from "../../src/data/code-store";
import { database } from "../../src/db/client";
import { sha256, toBase64 } from "../../src/util/bytes";

/**
 * The shared, content-addressed code blobs when a writer and a releaser of
 * the same blob interleave (two tenants with the same code): the blob a
 * version row points at is always there afterwards.
 */
async function code(text: string) {
  const zip = new TextEncoder().encode(`zip of ${text}`);
  return { bundle: `export const handler = () => ${JSON.stringify(text)};`, zip, codeSha256: toBase64(await sha256(zip)) };
}

async function insertVersion(tenantId: string, bundleKey: string, codeSha256: string) {
  await env.DB.prepare(
    "INSERT INTO function_versions (tenant_id, function_name, version, version_number, config, code_sha256, code_size, bundle_key, revision_id, last_modified) VALUES (?, 'f', '$LATEST', 0, '{}', ?, 1, ?, 'r', 'now')",
  )
    .bind(tenantId, codeSha256, bundleKey)
    .run();
}

describe("CodeStore: shared blobs", () => {
  const store = new CodeStore(env.CODE, database(env.DB));

  it("a writer whose staged blob was released meanwhile puts it back once its version row exists", async () => {
    const staged = await store.stage(await code(`writer-${crypto.randomUUID()}`));
    // Another tenant's release ran between the stage and the row: nothing used the blob yet.
    await store.release([staged]);
    expect(await env.CODE.head(staged.bundleKey)).toBeNull();
    await insertVersion(`t-writer-${crypto.randomUUID()}`, staged.bundleKey, staged.codeSha256);
    await store.confirm(staged);
    expect(await store.get(staged.bundleKey)).toContain("writer-");
    expect(await store.getZip(staged.codeSha256)).toEqual(staged.zip);
  });

  it("release keeps what a version uses and deletes what none does", async () => {
    const used = await store.stage(await code(`used-${crypto.randomUUID()}`));
    const unused = await store.stage(await code(`unused-${crypto.randomUUID()}`));
    await insertVersion(`t-release-${crypto.randomUUID()}`, used.bundleKey, used.codeSha256);
    await store.release([used, unused]);
    expect(await env.CODE.head(used.bundleKey)).not.toBeNull();
    expect(await store.getZip(used.codeSha256)).not.toBeNull();
    expect(await env.CODE.head(unused.bundleKey)).toBeNull();
    expect(await store.getZip(unused.codeSha256)).toBeNull();
  });
});
