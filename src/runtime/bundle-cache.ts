import { CodeStore } from "../data/code-store";
import { database } from "../db/client";

/**
 * Bundles are content addressed, so a key always names the same text: cache
 * them in the isolate (bounded by total size) so a cold environment of a
 * recently used function does not wait on R2.
 */
const MAX_CACHED_BYTES = 64 * 1024 * 1024;
const bundles = new Map<string, string>();
let cachedBytes = 0;

export async function loadBundle(env: Env, key: string): Promise<string> {
  const hit = bundles.get(key);
  if (hit !== undefined) {
    // Re-insert to keep the map in least-recently-used order.
    bundles.delete(key);
    bundles.set(key, hit);
    return hit;
  }
  const text = await new CodeStore(env.CODE, database(env.DB)).get(key);
  if (text === null) throw new Error(`bundle ${key} is missing from R2`);
  bundles.set(key, text);
  cachedBytes += text.length;
  for (const [oldKey, oldText] of bundles) {
    if (cachedBytes <= MAX_CACHED_BYTES) break;
    bundles.delete(oldKey);
    cachedBytes -= oldText.length;
  }
  return text;
}
