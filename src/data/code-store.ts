import type { SQL } from "drizzle-orm";
import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { functionVersions, layerVersions } from "../db/schema";
import { fromBase64, sha256, toHex } from "../util/bytes";

/** What a function version's code is made of: its bundle and its .zip package (by CodeSha256). */
export interface CodeRef {
  bundleKey: string;
  codeSha256: string;
}

/** Code written to R2 for a version row that is about to be written, with its bytes. */
export interface StagedCode extends CodeRef {
  bundle: Uint8Array;
  zip: Uint8Array;
}

/**
 * Bundles and .zip packages in R2, content addressed by SHA-256 and shared
 * by every tenant: the same code is stored once. The package is kept so that
 * changing a function's Handler can rebuild the bundle from it. A blob is
 * removed only when no function version of any tenant points at it any more
 * (the queries here that are not tenant scoped; they look up a content hash
 * and return nothing to callers).
 *
 * A writer and a releaser of the same blob can interleave (one tenant stages
 * code another tenant's version is just dropping). Neither R2 nor D1 has a
 * lock across both, so each side checks after its own write: the releaser
 * deletes, then looks for a version again and puts the blob back if one
 * appeared; the writer, once its version row exists, puts back a blob that
 * is gone (`confirm`). Whichever of the two writes lands second sees the
 * other's.
 */
export class CodeStore {
  constructor(
    private readonly bucket: R2Bucket,
    private readonly db: Database,
  ) {}

  /** Stores a bundle and its package (each once) before the version row that uses them is written. */
  async stage(code: { bundle: string; zip: Uint8Array; codeSha256: string }): Promise<StagedCode> {
    const bundle = new TextEncoder().encode(code.bundle);
    const staged = { bundleKey: `bundles/${toHex(await sha256(bundle))}.js`, codeSha256: code.codeSha256, bundle, zip: code.zip };
    await Promise.all([
      this.#putOnce(staged.bundleKey, bundle, BUNDLE_TYPE),
      this.#putOnce(zipKey(staged.codeSha256), staged.zip, ZIP_TYPE),
    ]);
    return staged;
  }

  /** Stores a layer's .zip (once): layer packages share the content-addressed `zips/` with functions'. */
  async stageZip(zip: Uint8Array, codeSha256: string): Promise<void> {
    await this.#putOnce(zipKey(codeSha256), zip, ZIP_TYPE);
  }

  /** After the version row is written: puts back a staged blob a concurrent release removed meanwhile. */
  async confirm(staged: StagedCode): Promise<void> {
    await Promise.all([
      this.#putOnce(staged.bundleKey, staged.bundle, BUNDLE_TYPE),
      this.#putOnce(zipKey(staged.codeSha256), staged.zip, ZIP_TYPE),
    ]);
  }

  async get(key: string): Promise<string | null> {
    const object = await this.bucket.get(key);
    return object ? object.text() : null;
  }

  async getZip(codeSha256: string): Promise<Uint8Array | null> {
    const object = await this.openZip(toHex(fromBase64(codeSha256)));
    return object ? new Uint8Array(await object.arrayBuffer()) : null;
  }

  /** The stored package whose SHA-256 is `packageHex`, as a stream (code downloads). */
  openZip(packageHex: string): Promise<R2ObjectBody | null> {
    return this.bucket.get(zipKeyOfHex(packageHex));
  }

  /** Deletes the bundles and packages among `refs` that no function version uses. */
  async release(refs: Iterable<CodeRef>): Promise<void> {
    // A version still being created has no bundle yet (empty key).
    const list = [...refs].filter((r) => r.bundleKey !== "");
    for (const key of new Set(list.map((r) => r.bundleKey))) {
      await this.#deleteUnused(key, BUNDLE_TYPE, () => this.#used(eq(functionVersions.bundleKey, key)));
    }
    for (const sha of new Set(list.map((r) => r.codeSha256))) {
      await this.#deleteUnused(zipKey(sha), ZIP_TYPE, async () => (await this.#used(eq(functionVersions.codeSha256, sha))) || (await this.#layerUses(sha)));
    }
  }

  async #used(where: SQL): Promise<boolean> {
    const rows = await this.db.select({ key: functionVersions.bundleKey }).from(functionVersions).where(where).limit(1);
    return rows.length > 0;
  }

  /** Layer versions keep their package for good (a deleted one still builds the functions that named it). */
  async #layerUses(codeSha256: string): Promise<boolean> {
    const rows = await this.db.select({ v: layerVersions.version }).from(layerVersions).where(eq(layerVersions.codeSha256, codeSha256)).limit(1);
    return rows.length > 0;
  }

  async #deleteUnused(key: string, contentType: string, used: () => Promise<boolean>): Promise<void> {
    if (await used()) return;
    const object = await this.bucket.get(key);
    if (!object) return;
    const bytes = new Uint8Array(await object.arrayBuffer());
    await this.bucket.delete(key);
    // A version written meanwhile may have found the blob present and skipped its upload.
    if (await used()) await this.bucket.put(key, bytes, { httpMetadata: { contentType } });
  }

  async #putOnce(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    if (!(await this.bucket.head(key))) await this.bucket.put(key, bytes, { httpMetadata: { contentType } });
  }
}

const BUNDLE_TYPE = "text/javascript";
const ZIP_TYPE = "application/zip";

/** `zips/<hex sha256>.zip` (CodeSha256 is base64 of the same digest). */
function zipKey(codeSha256: string): string {
  return zipKeyOfHex(toHex(fromBase64(codeSha256)));
}

function zipKeyOfHex(packageHex: string): string {
  return `zips/${packageHex}.zip`;
}
