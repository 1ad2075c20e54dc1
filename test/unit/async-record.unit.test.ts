import { describe, expect, it } from "vitest";
import type { RecordInput } from "../../src/async/record";
import { asInvocationRecord, fitRecord, invocationRecord, parsePayload, qualifierOfArn, recordBytes } from "../../src/async/record";

const names = { accountId: "123456789012", region: "us-east-1" };
const base: RecordInput = {
  timestamp: Date.UTC(2025, 10, 24, 23, 11, 8, 123),
  requestId: "5f0c8a4e-1b2c-4d3e-9f60-0a1b2c3d4e5f",
  names,
  functionName: "orders",
  qualifier: undefined,
  condition: "Success",
  approximateInvokeCount: 1,
  requestPayload: '{"order":42}',
};

describe("invocation record", () => {
  it("has Lambda's shape for a success", () => {
    const record = invocationRecord({
      ...base,
      response: { statusCode: 200, executedVersion: "$LATEST", payload: '{"ok":true}' },
    });
    expect(record).toEqual({
      version: "1.0",
      timestamp: "2025-11-24T23:11:08.123Z",
      requestContext: {
        requestId: base.requestId,
        functionArn: "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST",
        condition: "Success",
        approximateInvokeCount: 1,
      },
      requestPayload: { order: 42 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST" },
      responsePayload: { ok: true },
    });
    // Key order as Lambda sends it.
    expect(Object.keys(record)).toEqual(["version", "timestamp", "requestContext", "requestPayload", "responseContext", "responsePayload"]);
  });

  it("qualifies the ARN with the invoked qualifier and reports functionError on failure", () => {
    const record = invocationRecord({
      ...base,
      qualifier: "live",
      condition: "RetriesExhausted",
      approximateInvokeCount: 3,
      response: {
        statusCode: 200,
        executedVersion: "4",
        functionError: "Unhandled",
        payload: '{"errorType":"Error","errorMessage":"boom","trace":[]}',
      },
    });
    expect(record.requestContext).toEqual({
      requestId: base.requestId,
      functionArn: "arn:aws:lambda:us-east-1:123456789012:function:orders:live",
      condition: "RetriesExhausted",
      approximateInvokeCount: 3,
    });
    expect(record.responseContext).toEqual({ statusCode: 200, executedVersion: "4", functionError: "Unhandled" });
    expect(record.responsePayload).toEqual({ errorType: "Error", errorMessage: "boom", trace: [] });
  });

  it("leaves out the response for EventAgeExceeded", () => {
    const record = invocationRecord({ ...base, condition: "EventAgeExceeded", approximateInvokeCount: 0 });
    expect(record).toEqual({
      version: "1.0",
      timestamp: "2025-11-24T23:11:08.123Z",
      requestContext: {
        requestId: base.requestId,
        functionArn: "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST",
        condition: "EventAgeExceeded",
        approximateInvokeCount: 0,
      },
      requestPayload: { order: 42 },
    });
    expect("responseContext" in record).toBe(false);
    expect("responsePayload" in record).toBe(false);
  });

  it("carries the isolation tenant id of tenant-isolated functions", () => {
    expect(invocationRecord({ ...base, isolationTenantId: "customer-a" }).requestContext.tenantId).toBe("customer-a");
    expect("tenantId" in invocationRecord(base).requestContext).toBe(false);
  });

  it("keeps a handler result of null (a handler that returned nothing)", () => {
    const record = invocationRecord({ ...base, response: { statusCode: 200, executedVersion: "1", payload: "null" } });
    expect(record.responsePayload).toBeNull();
  });
});

describe("payloads", () => {
  it("parses JSON, treats empty as {} and keeps other text", () => {
    expect(parsePayload('{"a":[1,2]}')).toEqual({ a: [1, 2] });
    expect(parsePayload("")).toEqual({});
    expect(parsePayload("  ")).toEqual({});
    expect(parsePayload('"text"')).toBe("text");
    expect(parsePayload("not json")).toBe("not json");
  });

  it("drops the response payload, then the request payload, to fit a size", () => {
    const record = invocationRecord({
      ...base,
      requestPayload: JSON.stringify({ s: "r".repeat(1000) }),
      response: { statusCode: 200, executedVersion: "$LATEST", payload: JSON.stringify({ s: "x".repeat(5000) }) },
    });
    expect(fitRecord(record, 100_000)).toBe(record);
    const withoutResponse = fitRecord(record, 2000);
    expect(withoutResponse.responsePayload).toBeUndefined();
    expect(withoutResponse.responseContext).toEqual(record.responseContext);
    expect(withoutResponse.requestPayload).toEqual(record.requestPayload);
    expect(recordBytes(withoutResponse)).toBeLessThanOrEqual(2000);
    const bare = fitRecord(record, 500);
    expect("requestPayload" in bare).toBe(false);
    expect(bare.requestContext).toEqual(record.requestContext);
  });
});

describe("reading stored records", () => {
  it("recognises records and reads the qualifier back", () => {
    const record = invocationRecord({ ...base, qualifier: "7" });
    expect(asInvocationRecord(JSON.parse(JSON.stringify(record)))).toEqual(record);
    expect(asInvocationRecord({ version: "2.0" })).toBeNull();
    expect(asInvocationRecord(null)).toBeNull();
    expect(qualifierOfArn(record.requestContext.functionArn)).toBe("7");
    expect(qualifierOfArn("arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST")).toBeUndefined();
    expect(qualifierOfArn("arn:aws:lambda:us-east-1:123456789012:function:orders")).toBeUndefined();
  });
});
