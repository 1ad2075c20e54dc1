import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { functionVersions } from "../db/schema";

/**
 * Bundles in R2, content addressed by SHA-256, shared by every tenant: the
 * same code is stored once. A blob is removed only when no function version
 * of any tenant points at it any more (the one query here that is not tenant
 * scoped; it looks up a content hash and returns nothing to callers).
 */
export class CodeStore {
  constructor(
    private readonly bucket: R2Bucket,
    private readonly db: Database,
  ) {}

  /** Stores a bundle (once) and returns its key. */
  async put(bundle: string): Promise<string> {
    const bytes = new TextEncoder().encode(bundle);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const key = `bundles/${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}.js`;
    if (!(await this.bucket.head(key))) {
      await this.bucket.put(key, bytes, { httpMetadata: { contentType: "text/javascript" } });
    }
    return key;
  }

  async get(key: string): Promise<string | null> {
    const object = await this.bucket.get(key);
    return object ? object.text() : null;
  }

  /** Deletes the blobs among `keys` that no function version uses. */
  async release(keys: Iterable<string>): Promise<void> {
    for (const key of new Set(keys)) {
      const user = await this.db
        .select({ key: functionVersions.bundleKey })
        .from(functionVersions)
        .where(eq(functionVersions.bundleKey, key))
        .limit(1);
      if (user.length === 0) await this.bucket.delete(key);
    }
  }
}
