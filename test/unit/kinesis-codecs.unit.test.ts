import { describe, expect, it } from "vitest";
import { decodeIterator, deriveIteratorKey, encodeIterator, type IteratorClaims, iteratorExpired, ITERATOR_LIFETIME_MS } from "../../src/kinesis/shard-iterator";
import { type Members, parseInput } from "../../src/kinesis/validation";
import { AwsJsonError } from "../../src/aws-json/errors";

const claims: IteratorClaims = {
  tenantId: "t-abc",
  streamName: "x".repeat(128),
  streamId: "abcdefghij0123456789-abc",
  shardIndex: 3,
  position: 123456789,
  issuedAtMs: 1_800_000_000_000,
};

describe("shard iterators", () => {
  it("round-trip, fit Kinesis's 512 characters even with a 128-character stream name", async () => {
    const key = await deriveIteratorKey("secret");
    const text = await encodeIterator(key, claims);
    expect(text.length).toBeLessThanOrEqual(512);
    expect(await decodeIterator(key, text)).toEqual(claims);
  });

  it("are refused when signed with another key, edited, truncated or made up", async () => {
    const key = await deriveIteratorKey("secret");
    const text = await encodeIterator(key, claims);
    expect(await decodeIterator(await deriveIteratorKey("other"), text)).toBeNull();
    const [payload = "", mac = ""] = text.split(".");
    const forgedPayload = btoa(JSON.stringify(["t-other", "s", "id", 0, 0, claims.issuedAtMs])).replace(/=+$/, "");
    for (const bad of [`${forgedPayload}.${mac}`, `${payload}.`, payload, `${payload}.${mac}.x`, "", "....", `${payload}x.${mac}`]) {
      expect(await decodeIterator(key, bad)).toBeNull();
    }
  });

  it("expire five minutes after they are issued", () => {
    expect(iteratorExpired(claims, claims.issuedAtMs + ITERATOR_LIFETIME_MS)).toBe(false);
    expect(iteratorExpired(claims, claims.issuedAtMs + ITERATOR_LIFETIME_MS + 1)).toBe(true);
  });
});

describe("request validation (Coral's messages)", () => {
  const members: Members = {
    Name: { shape: { type: "string", min: 1, max: 5, pattern: "[a-z]+" }, required: true },
    Count: { shape: { type: "integer", min: 1, max: 10 } },
    Data: { shape: { type: "blob", max: 3 } },
    Items: { shape: { type: "list", max: 2, member: { type: "structure", members: { Key: { shape: { type: "string", max: 2 }, required: true } } } } },
  };
  const errorOf = (body: Record<string, unknown>) => {
    try {
      parseInput(body, members);
    } catch (error) {
      if (error instanceof AwsJsonError) return { type: error.type, message: error.message };
    }
    return null;
  };

  it("converts base64 blobs to bytes and ignores unknown members", () => {
    expect(parseInput(body({ Data: "AQID", Extra: true }), members)).toEqual({ Name: "ab", Data: new Uint8Array([1, 2, 3]) });
  });

  it("collects every constraint failure into one ValidationException", () => {
    const many = errorOf({ Name: "ABCDEF", Count: 11, Items: [{ Key: "abc" }] });
    expect(many?.message).toBe(
      "4 validation errors detected: Value 'ABCDEF' at 'name' failed to satisfy constraint: Member must have length less than or equal to 5; " +
        "Value 'ABCDEF' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z]+; " +
        "Value '11' at 'count' failed to satisfy constraint: Member must have value less than or equal to 10; " +
        "Value 'abc' at 'items.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 2",
    );
    expect(errorOf({ Data: "AQIDBA==" })?.message).toBe(
      "2 validation errors detected: Value null at 'name' failed to satisfy constraint: Member must not be null; " +
        "Value 'java.nio.HeapByteBuffer[pos=0 lim=4 cap=4]' at 'data' failed to satisfy constraint: Member must have length less than or equal to 3",
    );
  });

  it("answers wrong JSON types with SerializationException", () => {
    expect(errorOf({ Name: 5 })).toEqual({ type: "SerializationException", message: "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String" });
    expect(errorOf({ Name: "a", Items: {} })).toEqual({ type: "SerializationException", message: "Start of structure or map found where not expected." });
    expect(errorOf({ Name: "a", Data: "A=B=" })).toEqual({ type: "SerializationException", message: "'A=B=' can not be converted to a Blob: Invalid Base64 character: '='" });
  });
});

function body(extra: Record<string, unknown>): Record<string, unknown> {
  return { Name: "ab", ...extra };
}
