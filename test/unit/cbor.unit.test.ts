import { cbor, dateToTag } from "@smithy/core/cbor";
import { describe, expect, it } from "vitest";
import { decodeCbor, encodeCbor, EpochSeconds } from "../../src/metrics/cbor";

// cellfn's CBOR subset against Smithy's own codec (the one SDK v3 uses for
// smithy-rpc-v2-cbor): what the SDK writes we read, and what we write it reads.

describe("CBOR for smithy-rpc-v2-cbor", () => {
  it("reads what Smithy's encoder writes, timestamps (tag 1) as epoch seconds", () => {
    const input = {
      Namespace: "AWS/Lambda",
      MetricName: "Invocations",
      Dimensions: [{ Name: "FunctionName", Value: "héllo" }],
      StartTime: dateToTag(new Date(1_700_000_000_000)),
      EndTime: dateToTag(new Date(1_700_000_600_500)),
      Period: 60,
      Big: 2 ** 40,
      Negative: -300,
      Fraction: 0.25,
      Flag: true,
      Nothing: null,
      Long: "x".repeat(300),
    };
    const decoded = decodeCbor(cbor.serialize(input)) as Record<string, unknown>;
    expect(decoded).toEqual({ ...input, StartTime: 1_700_000_000, EndTime: 1_700_000_600.5 });
  });

  it("writes what Smithy's decoder reads, timestamps as tag 1", () => {
    const output = { Datapoints: [{ Timestamp: new EpochSeconds(1_700_000_040), Sum: 3, Average: 1.5, Unit: "Count" }], Label: "Invocations", Empty: [] };
    const decoded = cbor.deserialize(encodeCbor(output)) as { Datapoints: Array<Record<string, unknown>>; Label: string; Empty: unknown[] };
    expect(decoded.Label).toBe("Invocations");
    expect(decoded.Empty).toEqual([]);
    expect(decoded.Datapoints[0]?.Sum).toBe(3);
    expect(decoded.Datapoints[0]?.Average).toBe(1.5);
    expect(decoded.Datapoints[0]?.Timestamp).toMatchObject({ tag: 1, value: 1_700_000_040 });
  });

  it("refuses truncated and trailing input", () => {
    const bytes = cbor.serialize({ a: "long enough text" });
    expect(() => decodeCbor(bytes.slice(0, bytes.length - 3))).toThrow(/truncated/);
    expect(() => decodeCbor(Uint8Array.from([...bytes, 0]))).toThrow(/trailing/);
  });
});
