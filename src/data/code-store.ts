import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { functionVersions } from "../db/schema";
import { fromBase64, sha256, toHex } from "../util/bytes";

/** What a function version's code is made of: its bundle and its .zip package (by CodeSha256). */
export interface CodeRef {
  bundleKey: string;
  codeSha256: string;
}

/**
 * Bundles and .zip packages in R2, content addressed by SHA-256 and shared
 * by every tenant: the same code is stored once. The package is kept so that
 * changing a function's Handler can rebuild the bundle from it. A blob is
 * removed only when no function version of any tenant points at it any more
 * (the queries here that are not tenant scoped; they look up a content hash
 * and return nothing to callers).
 */
export class CodeStore {
  constructor(
    private readonly bucket: R2Bucket,
    private readonly db: Database,
  ) {}

  /** Stores a bundle (once) and returns its key. */
  async put(bundle: string): Promise<string> {
    const bytes = new TextEncoder().encode(bundle);
    const key = `bundles/${toHex(await sha256(bytes))}.js`;
    await this.#putOnce(key, bytes, "text/javascript");
    return key;
  }

  async get(key: string): Promise<string | null> {
    const object = await this.bucket.get(key);
    return object ? object.text() : null;
  }

  /** Stores a .zip package (once) under its CodeSha256. */
  async putZip(codeSha256: string, zip: Uint8Array): Promise<void> {
    await this.#putOnce(zipKey(codeSha256), zip, "application/zip");
  }

  async getZip(codeSha256: string): Promise<Uint8Array | null> {
    const object = await this.bucket.get(zipKey(codeSha256));
    return object ? new Uint8Array(await object.arrayBuffer()) : null;
  }

  /** Deletes the bundles and packages among `refs` that no function version uses. */
  async release(refs: Iterable<CodeRef>): Promise<void> {
    const list = [...refs];
    for (const key of new Set(list.map((r) => r.bundleKey))) {
      const user = await this.db.select({ key: functionVersions.bundleKey }).from(functionVersions).where(eq(functionVersions.bundleKey, key)).limit(1);
      if (user.length === 0) await this.bucket.delete(key);
    }
    for (const sha of new Set(list.map((r) => r.codeSha256))) {
      const user = await this.db.select({ sha: functionVersions.codeSha256 }).from(functionVersions).where(eq(functionVersions.codeSha256, sha)).limit(1);
      if (user.length === 0) await this.bucket.delete(zipKey(sha));
    }
  }

  async #putOnce(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    if (!(await this.bucket.head(key))) await this.bucket.put(key, bytes, { httpMetadata: { contentType } });
  }
}

/** `zips/<hex sha256>.zip` (CodeSha256 is base64 of the same digest). */
function zipKey(codeSha256: string): string {
  return `zips/${toHex(fromBase64(codeSha256))}.zip`;
}
