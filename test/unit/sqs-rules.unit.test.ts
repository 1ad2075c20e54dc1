import { describe, expect, it } from "vitest";
import { differingAttributes, initialSettings, validateQueueName, validateSettableAttributes } from "../../src/sqs/attributes";
import { SqsError } from "../../src/sqs/errors";
import { checkFifoFields, deduplicationId, dedupKey, formatSequenceNumber } from "../../src/sqs/fifo";
import { md5Hex, md5OfMessageAttributes } from "../../src/sqs/md5";
import { hasInvalidCharacters, selectMessageAttributes, validateMessageAttributes } from "../../src/sqs/messages";
import { ownQueueFromArn, ownQueueFromUrl, parseQueueUrl } from "../../src/sqs/queue-ref";
import { decodeReceiptHandle, encodeReceiptHandle } from "../../src/sqs/receipt-handle";
import { parseRedriveAllowPolicy, parseRedrivePolicy, redriveAllowed, shouldMoveToDeadLetter } from "../../src/sqs/redrive";

function sqsError(fn: () => unknown): { type: string; query: string | undefined; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof SqsError) return { type: error.type, query: error.queryError, message: error.message };
    throw error;
  }
  throw new Error("expected an SqsError");
}

describe("MD5 digests (values pinned by moto's and LocalStack's tests against AWS)", () => {
  it("MD5OfMessageBody is the hex MD5 of the UTF-8 body", () => {
    expect(md5Hex("derp")).toBe("58fd9edd83341c29f1aebba81c31e257");
    expect(md5Hex("This is a test message")).toBe("fafb00f5732ab283681e124bf8747ed1");
  });

  it("MD5OfMessageAttributes of one Number attribute", () => {
    expect(md5OfMessageAttributes({ timestamp: { DataType: "Number", StringValue: "1493147359900" } })).toBe("235c5c510d26fb653d073faed50ae77c");
    expect(md5OfMessageAttributes({ timestamp: { DataType: "Number", StringValue: "1493147359901" } })).toBe("994258b45346a2cc3f9cbb611aa7af30");
    expect(md5OfMessageAttributes({ "SOME_Valid.attribute-Name": { DataType: "Number", StringValue: "1493147359900" } })).toBe(
      "36655e7e9d7c0e8479fa3f3f42247ae7",
    );
  });

  it("MD5OfMessageAttributes sorts by name and encodes Binary with transport byte 2 (moto's complex example)", () => {
    const attributes = {
      ccc: { DataType: "String", StringValue: "testjunk" },
      aaa: { DataType: "Binary", BinaryValue: btoa("\x02\x03\x04") },
      zzz: { DataType: "Number", StringValue: "0230.01" },
      "öther_encodings": { DataType: "String", StringValue: "T\u00fcst" },
    };
    expect(md5OfMessageAttributes(attributes)).toBe("8ae21a7957029ef04146b42aeaa18a22");
    const reversed = Object.fromEntries(Object.entries(attributes).reverse());
    expect(md5OfMessageAttributes(reversed)).toBe("8ae21a7957029ef04146b42aeaa18a22");
  });

  it("no attributes, no digest", () => {
    expect(md5OfMessageAttributes({})).toBeUndefined();
  });
});

describe("message contents", () => {
  it("refuses characters outside SQS's allowed ranges", () => {
    expect(hasInvalidCharacters("tab\tnewline\ncr\r emoji 😀 ü")).toBe(false);
    for (const bad of ["\u0000", "\u0008", "\u000b", "\uffff", "\ud800"]) expect(hasInvalidCharacters(`a${bad}b`)).toBe(true);
  });

  it("checks message attributes as SQS does", () => {
    const ok = validateMessageAttributes({
      n: { DataType: "Number.int", StringValue: "42" },
      s: { DataType: "String", StringValue: "hé" },
      b: { DataType: "Binary.gif", BinaryValue: btoa("xyz") },
    });
    expect(ok.bytes).toBe(1 + 10 + 2 + 1 + 6 + 3 + 1 + 10 + 3);
    expect(sqsError(() => validateMessageAttributes({ n: { DataType: "Number", StringValue: "abc" } })).type).toBe("InvalidParameterValue");
    expect(sqsError(() => validateMessageAttributes({ n: { DataType: "Blob", StringValue: "x" } })).message).toContain("supported type prefixes");
    expect(sqsError(() => validateMessageAttributes({ "AWS.x": { DataType: "String", StringValue: "x" } })).message).toContain("is invalid");
    expect(sqsError(() => validateMessageAttributes({ "a..b": { DataType: "String", StringValue: "x" } })).type).toBe("InvalidParameterValue");
    expect(sqsError(() => validateMessageAttributes({ s: { DataType: "String", StringValue: "" } })).message).toBe(
      "Message (user) attribute 's' must contain a non-empty value of type 'String'.",
    );
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${i}`, { DataType: "String", StringValue: "v" }]));
    expect(sqsError(() => validateMessageAttributes(eleven)).message).toBe("Number of message attributes [11] exceeds the allowed maximum [10].");
  });

  it("selects attributes by All, name and prefix.*", () => {
    const all = { "a.x": { DataType: "String", StringValue: "1" }, "a.y": { DataType: "String", StringValue: "2" }, b: { DataType: "String", StringValue: "3" } };
    expect(Object.keys(selectMessageAttributes(all, ["All"]))).toEqual(["a.x", "a.y", "b"]);
    expect(Object.keys(selectMessageAttributes(all, ["a.*"]))).toEqual(["a.x", "a.y"]);
    expect(Object.keys(selectMessageAttributes(all, ["b"]))).toEqual(["b"]);
    expect(selectMessageAttributes(all, [])).toEqual({});
  });
});

describe("queue attributes", () => {
  it("applies AWS's ranges with AWS's error codes", () => {
    expect(validateSettableAttributes({ VisibilityTimeout: "43200", DelaySeconds: "900" }, false, true)).toEqual({ VisibilityTimeout: "43200", DelaySeconds: "900" });
    expect(sqsError(() => validateSettableAttributes({ VisibilityTimeout: "43201" }, false, true))).toEqual({
      type: "InvalidAttributeValue",
      query: "InvalidAttributeValue;Sender",
      message: "Invalid value for the parameter VisibilityTimeout.",
    });
    expect(sqsError(() => validateSettableAttributes({ MessageRetentionPeriod: "59" }, false, true)).type).toBe("InvalidAttributeValue");
    expect(sqsError(() => validateSettableAttributes({ MaximumMessageSize: "1023" }, false, true)).type).toBe("InvalidAttributeValue");
    expect(sqsError(() => validateSettableAttributes({ Bogus: "1" }, false, true))).toMatchObject({ type: "InvalidAttributeName", message: "Unknown Attribute Bogus." });
    expect(sqsError(() => validateSettableAttributes({ ContentBasedDeduplication: "true" }, false, true)).type).toBe("InvalidAttributeName");
    expect(sqsError(() => validateSettableAttributes({ FifoQueue: "true" }, true, false)).type).toBe("InvalidAttributeName");
  });

  it("normalizes RedrivePolicy and refuses bad ones", () => {
    const out = validateSettableAttributes({ RedrivePolicy: '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:d","maxReceiveCount":"3"}' }, false, true);
    expect(JSON.parse(out.RedrivePolicy ?? "")).toEqual({ deadLetterTargetArn: "arn:aws:sqs:us-east-1:123456789012:d", maxReceiveCount: 3 });
    expect(sqsError(() => parseRedrivePolicy('{"deadLetterTargetArn":"x","maxReceiveCount":0}')).type).toBe("InvalidAttributeValue");
    expect(sqsError(() => parseRedrivePolicy("not json")).type).toBe("InvalidAttributeValue");
    expect(sqsError(() => parseRedrivePolicy("not json")).message).toBe("Value not json for parameter RedrivePolicy is invalid. Reason: Invalid JSON.");
    expect(sqsError(() => parseRedriveAllowPolicy("{")).message).toBe("Value { for parameter RedriveAllowPolicy is invalid. Reason: Invalid JSON.");
  });

  it("queue names: 80 characters, .fifo for FIFO queues only", () => {
    expect(() => validateQueueName("a".repeat(80), false)).not.toThrow();
    expect(sqsError(() => validateQueueName("a".repeat(81), false)).type).toBe("InvalidParameterValue");
    expect(sqsError(() => validateQueueName("has space", false)).type).toBe("InvalidParameterValue");
    expect(sqsError(() => validateQueueName("x.fifo", false)).type).toBe("InvalidParameterValue");
    expect(sqsError(() => validateQueueName("x", true)).message).toContain("must end with .fifo");
    expect(() => validateQueueName("x.fifo", true)).not.toThrow();
  });

  it("CreateQueue of an existing name compares defaults too", () => {
    const a = initialSettings({ VisibilityTimeout: "30" }, false);
    expect(differingAttributes(a, initialSettings({}, false))).toEqual([]);
    expect(differingAttributes(a, initialSettings({ DelaySeconds: "5" }, false))).toEqual(["DelaySeconds"]);
  });
});

describe("redrive, FIFO and receipt handles", () => {
  it("moves a message once it was received maxReceiveCount times", () => {
    const policy = { deadLetterTargetArn: "arn", maxReceiveCount: 2 };
    expect(shouldMoveToDeadLetter(1, policy)).toBe(false);
    expect(shouldMoveToDeadLetter(2, policy)).toBe(true);
    expect(shouldMoveToDeadLetter(99, undefined)).toBe(false);
  });

  it("RedriveAllowPolicy decides who may use a dead-letter queue", () => {
    expect(redriveAllowed(undefined, "arn:a")).toBe(true);
    expect(redriveAllowed('{"redrivePermission":"denyAll"}', "arn:a")).toBe(false);
    expect(redriveAllowed('{"redrivePermission":"byQueue","sourceQueueArns":["arn:a"]}', "arn:a")).toBe(true);
    expect(redriveAllowed('{"redrivePermission":"byQueue","sourceQueueArns":["arn:a"]}', "arn:b")).toBe(false);
  });

  it("FIFO sends need a group and a dedup id (or content-based dedup); standard queues refuse dedup ids", () => {
    expect(sqsError(() => checkFifoFields({}, true, false, undefined)).type).toBe("MissingParameter");
    expect(sqsError(() => checkFifoFields({ groupId: "g" }, true, false, undefined)).type).toBe("InvalidParameterValue");
    expect(() => checkFifoFields({ groupId: "g" }, true, true, undefined)).not.toThrow();
    expect(sqsError(() => checkFifoFields({ groupId: "g", dedupId: "d" }, true, false, 5)).type).toBe("InvalidParameterValue");
    expect(sqsError(() => checkFifoFields({ dedupId: "d" }, false, false, undefined)).type).toBe("InvalidParameterValue");
    expect(deduplicationId(undefined, "abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(deduplicationId("given", "abc")).toBe("given");
    expect(dedupKey("messageGroup", "g", "d")).not.toBe(dedupKey("messageGroup", "h", "d"));
    expect(dedupKey("queue", "g", "d")).toBe(dedupKey("queue", "h", "d"));
    expect(formatSequenceNumber(42)).toBe("00000000000000000042");
  });

  it("receipt handles round-trip and refuse garbage", () => {
    const handle = { queueId: crypto.randomUUID(), messageId: crypto.randomUUID(), receiveId: crypto.randomUUID() };
    expect(decodeReceiptHandle(encodeReceiptHandle(handle))).toEqual(handle);
    for (const bad of ["", "garbage!", btoa("2:a:b:c"), btoa("1:a:b"), "x".repeat(600)]) expect(decodeReceiptHandle(bad)).toBeNull();
  });

  it("queue URLs on any host name the queue by account and name; other accounts look missing", () => {
    expect(parseQueueUrl("https://sqs.us-east-1.amazonaws.com/123456789012/q.fifo")).toEqual({ accountId: "123456789012", name: "q.fifo" });
    expect(ownQueueFromUrl("http://localhost:8787/123456789012/q", "123456789012")).toBe("q");
    expect(sqsError(() => ownQueueFromUrl("http://localhost:8787/210987654321/q", "123456789012")).type).toBe("QueueDoesNotExist");
    expect(sqsError(() => parseQueueUrl("not a url")).type).toBe("InvalidAddress");
    expect(ownQueueFromArn("arn:aws:sqs:us-east-1:123456789012:q", "123456789012")).toBe("q");
    expect(ownQueueFromArn("arn:aws:sqs:us-east-1:210987654321:q", "123456789012")).toBeNull();
  });
});
