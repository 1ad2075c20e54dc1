import { describe, expect, it } from "vitest";
import { isRetryOfLast, updatesHash } from "../../src/durable/checkpoint-retry";

describe("a retried checkpoint (src/durable/checkpoint-retry.ts)", () => {
  const updates = [{ Id: "s1", Type: "STEP", Action: "SUCCEED", Payload: "1" }];

  it("is the last committed one only with the same token, the same updates, and the issued token still current", async () => {
    const hash = await updatesHash(updates);
    const last = { token: "t1", updatesHash: hash, nextToken: "t2", seenBefore: 3 };
    expect(isRetryOfLast(last, "t2", "t1", hash)).toBe(true);
    expect(isRetryOfLast(last, "t3", "t1", hash)).toBe(false); // the issued token was used, or a new invocation began
    expect(isRetryOfLast(last, null, "t1", hash)).toBe(false); // no invocation holds a token
    expect(isRetryOfLast(last, "t2", "t0", hash)).toBe(false); // an older token
    expect(isRetryOfLast(last, "t2", "t1", await updatesHash([]))).toBe(false); // other updates
    expect(isRetryOfLast(undefined, "t2", "t1", hash)).toBe(false);
  });

  it("hashes the updates as sent (an absent list is its own value)", async () => {
    expect(await updatesHash(updates)).toBe(await updatesHash(JSON.parse(JSON.stringify(updates))));
    expect(await updatesHash(undefined)).not.toBe(await updatesHash([]));
    expect(await updatesHash(undefined)).toMatch(/^[0-9a-f]{64}$/);
  });
});
