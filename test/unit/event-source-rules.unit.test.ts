import { describe, expect, it } from "vitest";
import { LambdaError } from "../../src/errors";
import { interpretResult } from "../../src/event-sources/batch-result";
import { compileFilters } from "../../src/event-sources/filter";
import { applySettings, checkForQueue, parseCreate } from "../../src/event-sources/settings";
import { recordsWithin, sqsRecord } from "../../src/event-sources/sqs-event";

function lambdaError(fn: () => unknown): { type: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof LambdaError) return { type: error.type, message: error.message };
    throw error;
  }
  throw new Error("expected a LambdaError");
}

describe("mapping settings", () => {
  it("applies SQS defaults", () => {
    expect(applySettings({})).toEqual({ enabled: true, batchSize: 10, maximumBatchingWindowInSeconds: 0, filters: [], reportBatchItemFailures: false });
  });

  it("refuses a batch size above 10 without a batching window, with AWS's message", () => {
    expect(lambdaError(() => applySettings({ BatchSize: 11 }))).toEqual({
      type: "InvalidParameterValueException",
      message: "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
    });
    expect(applySettings({ BatchSize: 100, MaximumBatchingWindowInSeconds: 1 }).batchSize).toBe(100);
  });

  it("checks the rule on the merged settings of an update", () => {
    const base = applySettings({ BatchSize: 100, MaximumBatchingWindowInSeconds: 5 });
    expect(lambdaError(() => applySettings({ MaximumBatchingWindowInSeconds: 0 }, base)).type).toBe("InvalidParameterValueException");
    expect(applySettings({ Enabled: false }, base)).toMatchObject({ enabled: false, batchSize: 100, maximumBatchingWindowInSeconds: 5 });
  });

  it("answers model constraints as ValidationException", () => {
    expect(lambdaError(() => parseCreate({ FunctionName: "f", EventSourceArn: "a", BatchSize: 0 }))).toEqual({
      type: "ValidationException",
      message: "1 validation error detected: Value '0' at 'batchSize' failed to satisfy constraint: Member must have value greater than or equal to 1",
    });
    expect(lambdaError(() => parseCreate({ FunctionName: "f", EventSourceArn: "a", ScalingConfig: { MaximumConcurrency: 1 } })).message).toContain(
      "at 'scalingConfig.maximumConcurrency'",
    );
    expect(lambdaError(() => parseCreate({ FunctionName: "f", EventSourceArn: "a", MaximumBatchingWindowInSeconds: 301 })).type).toBe("ValidationException");
  });

  it("refuses a batching window on a FIFO queue, as AWS", () => {
    const windowed = applySettings({ BatchSize: 10, MaximumBatchingWindowInSeconds: 1 });
    expect(lambdaError(() => checkForQueue(windowed, "jobs.fifo"))).toEqual({
      type: "InvalidParameterValueException",
      message: "Batching window is not supported for FIFO queues",
    });
    expect(() => checkForQueue(windowed, "jobs")).not.toThrow();
    expect(() => checkForQueue(applySettings({}), "jobs.fifo")).not.toThrow();
  });

  it("refuses a bad filter pattern", () => {
    expect(lambdaError(() => applySettings({ FilterCriteria: { Filters: [{ Pattern: "{not json" }] } }))).toEqual({
      type: "InvalidParameterValueException",
      message: "Invalid filter pattern definition.",
    });
  });
});

describe("filters", () => {
  const matches = (pattern: unknown, body: string) => compileFilters([JSON.stringify(pattern)])({ body });

  it("matches exact values on the JSON body, AND across keys, OR across values", () => {
    const p = { body: { kind: ["order", "refund"], n: [5] } };
    expect(matches(p, JSON.stringify({ kind: "order", n: 5 }))).toBe(true);
    expect(matches(p, JSON.stringify({ kind: "refund", n: 5 }))).toBe(true);
    expect(matches(p, JSON.stringify({ kind: "order", n: 6 }))).toBe(false);
    expect(matches(p, "not json")).toBe(false);
  });

  it("supports prefix, suffix, equals-ignore-case, anything-but, numeric and exists", () => {
    expect(matches({ body: { id: [{ prefix: "ord_" }] } }, '{"id":"ord_1"}')).toBe(true);
    expect(matches({ body: { id: [{ prefix: "ord_" }] } }, '{"id":"inv_1"}')).toBe(false);
    expect(matches({ body: { f: [{ suffix: ".png" }] } }, '{"f":"a.png"}')).toBe(true);
    expect(matches({ body: { s: [{ "equals-ignore-case": "OK" }] } }, '{"s":"ok"}')).toBe(true);
    expect(matches({ body: { s: [{ "anything-but": ["a", "b"] }] } }, '{"s":"c"}')).toBe(true);
    expect(matches({ body: { s: [{ "anything-but": "a" }] } }, '{"s":"a"}')).toBe(false);
    expect(matches({ body: { n: [{ numeric: [">", 0, "<=", 150.5] }] } }, '{"n":150.5}')).toBe(true);
    expect(matches({ body: { n: [{ numeric: [">", 0, "<=", 150.5] }] } }, '{"n":151}')).toBe(false);
    expect(matches({ body: { a: { b: [{ exists: true }] } } }, '{"a":{"b":1}}')).toBe(true);
    expect(matches({ body: { a: { b: [{ exists: false }] } } }, '{"a":{"b":1}}')).toBe(false);
    expect(matches({ body: { a: { b: [{ exists: false }] } } }, '{"a":{}}')).toBe(true);
  });

  it("matches a plain-string body pattern against the raw body", () => {
    expect(matches({ body: [{ prefix: "hello" }] }, "hello world")).toBe(true);
    expect(matches({ body: ["exact"] }, "exact")).toBe(true);
    expect(matches({ body: ["exact"] }, "other")).toBe(false);
  });

  it("ORs filters and refuses record keys other than body/attributes/messageAttributes and unsupported operators", () => {
    const any = compileFilters([JSON.stringify({ body: { a: [1] } }), JSON.stringify({ body: { b: [2] } })]);
    expect(any({ body: '{"b":2}' })).toBe(true);
    expect(any({ body: '{"c":3}' })).toBe(false);
    expect(() => compileFilters([JSON.stringify({ body: { a: [{ cidr: "10.0.0.0/8" }] } })])).toThrow("Invalid filter pattern definition.");
    expect(() => compileFilters([JSON.stringify({ eventSource: ["aws:sqs"] })])).toThrow("Invalid filter pattern definition.");
  });

  it("supports wildcard and $or", () => {
    expect(matches({ body: { f: [{ wildcard: "img/*.png" }] } }, '{"f":"img/a/b.png"}')).toBe(true);
    expect(matches({ body: { f: [{ wildcard: "img/*.png" }] } }, '{"f":"img/a.jpg"}')).toBe(false);
    expect(matches({ body: { f: [{ wildcard: "a.b" }] } }, '{"f":"axb"}')).toBe(false);
    const either = { body: { $or: [{ a: [1] }, { b: [{ exists: true }] }] } };
    expect(matches(either, '{"a":1}')).toBe(true);
    expect(matches(either, '{"b":"x"}')).toBe(true);
    expect(matches(either, '{"a":2}')).toBe(false);
  });

  it("matches message attributes and system attributes of the record", () => {
    const filter = compileFilters([JSON.stringify({ messageAttributes: { kind: { stringValue: ["new"] } }, attributes: { ApproximateReceiveCount: ["1"] } })]);
    const record = (kind: string, count: string) => ({
      body: "raw",
      attributes: { ApproximateReceiveCount: count },
      messageAttributes: { kind: { stringValue: kind, stringListValues: [], binaryListValues: [], dataType: "String" } },
    });
    expect(filter(record("new", "1"))).toBe(true);
    expect(filter(record("old", "1"))).toBe(false);
    expect(filter(record("new", "2"))).toBe(false);
    expect(filter({ body: "raw" })).toBe(false);
  });
});

describe("batch results", () => {
  const ids = ["m1", "m2", "m3"];
  it("deletes everything on success and nothing on a function error", () => {
    expect(interpretResult(ids, { functionError: false, payload: "null" }, false)).toEqual({ kind: "settle", deleteIds: ids, failedIds: [] });
    expect(interpretResult(ids, { functionError: true, payload: "{}" }, true).kind).toBe("fail");
  });

  it("keeps only the named messages with ReportBatchItemFailures", () => {
    const payload = JSON.stringify({ batchItemFailures: [{ itemIdentifier: "m2" }] });
    expect(interpretResult(ids, { functionError: false, payload }, true)).toEqual({ kind: "settle", deleteIds: ["m1", "m3"], failedIds: ["m2"] });
    // Without the response type the list means nothing.
    expect(interpretResult(ids, { functionError: false, payload }, false)).toEqual({ kind: "settle", deleteIds: ids, failedIds: [] });
  });

  it("treats empty and null lists and responses as complete success", () => {
    for (const payload of ["", "null", "{}", '{"batchItemFailures":[]}', '{"batchItemFailures":null}']) {
      expect(interpretResult(ids, { functionError: false, payload }, true)).toEqual({ kind: "settle", deleteIds: ids, failedIds: [] });
    }
  });

  it("fails the whole batch on unknown, empty or null ids, a wrong key, or invalid JSON", () => {
    for (const payload of [
      '{"batchItemFailures":[{"itemIdentifier":"nope"}]}',
      '{"batchItemFailures":[{"itemIdentifier":""}]}',
      '{"batchItemFailures":[{"itemIdentifier":null}]}',
      '{"batchItemFailures":[{"id":"m1"}]}',
      '{"batchItemFailures":"m1"}',
      "{not json",
    ]) {
      expect(interpretResult(ids, { functionError: false, payload }, true).kind, payload).toBe("fail");
    }
  });
});

describe("SQS event record", () => {
  it("is Lambda's shape", () => {
    const record = sqsRecord(
      {
        MessageId: "id-1",
        ReceiptHandle: "rh",
        MD5OfBody: "md5",
        Body: "hi",
        Attributes: { ApproximateReceiveCount: "1", SentTimestamp: "1" },
        MD5OfMessageAttributes: "amd5",
        MessageAttributes: { a: { DataType: "String", StringValue: "v" }, b: { DataType: "Binary", BinaryValue: "AQ==" } },
      },
      "arn:aws:sqs:us-east-1:123456789012:q",
      "us-east-1",
    );
    expect(record).toEqual({
      messageId: "id-1",
      receiptHandle: "rh",
      body: "hi",
      attributes: { ApproximateReceiveCount: "1", SentTimestamp: "1" },
      messageAttributes: {
        a: { stringValue: "v", stringListValues: [], binaryListValues: [], dataType: "String" },
        b: { binaryValue: "AQ==", stringListValues: [], binaryListValues: [], dataType: "Binary" },
      },
      md5OfBody: "md5",
      md5OfMessageAttributes: "amd5",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:q",
      awsRegion: "us-east-1",
    });
  });
});

describe("batch payload cap", () => {
  const record = (body: string) => sqsRecord({ MessageId: "m", ReceiptHandle: "r", MD5OfBody: "x", Body: body }, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1");
  it("keeps the records that fit in the limit, at least one", () => {
    const records = [record("a".repeat(100)), record("b".repeat(100)), record("c".repeat(100))];
    const exact = new TextEncoder().encode(JSON.stringify({ Records: records })).length;
    expect(recordsWithin(records, exact)).toBe(3);
    expect(recordsWithin(records, exact - 1)).toBe(2);
    expect(recordsWithin(records, 10)).toBe(1);
  });
});
