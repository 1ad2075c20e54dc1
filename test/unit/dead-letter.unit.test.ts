import { describe, expect, it } from "vitest";
import { deadLetterMessage, ERROR_MESSAGE_MAX_BYTES, truncateUtf8 } from "../../src/async/dead-letter";

const functionError = (payload: string) => ({ statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled", payload });

describe("deadLetterMessage", () => {
  it("is the event itself with RequestID, ErrorCode 200 and the function's errorMessage", () => {
    const message = deadLetterMessage({
      requestId: "r-1",
      condition: "RetriesExhausted",
      payload: '{"n":1}',
      response: functionError('{"errorType":"Error","errorMessage":"boom {\\"n\\":1}","trace":["at x"]}'),
    });
    expect(message).toEqual({
      body: '{"n":1}',
      attributes: {
        RequestID: { DataType: "String", StringValue: "r-1" },
        ErrorCode: { DataType: "Number", StringValue: "200" },
        ErrorMessage: { DataType: "String", StringValue: 'boom {"n":1}' },
      },
    });
  });

  it("keeps a response that is not an error object as the message, and the empty event as {}", () => {
    const message = deadLetterMessage({ requestId: "r", condition: "RetriesExhausted", payload: "  ", response: functionError('"plain"') });
    expect(message.body).toBe("{}");
    expect(message.attributes.ErrorMessage?.StringValue).toBe('"plain"');
  });

  it.each([
    ["ZeroReservedConcurrency", "429"],
    ["EventAgeExceeded", "429"],
    ["FunctionNotFound", "404"],
    ["InvocationRejected", "400"],
    ["PlatformError", "500"],
  ] as const)("where nothing ran (%s): ErrorCode %s and the condition as the message", (condition, code) => {
    const message = deadLetterMessage({ requestId: "r", condition, payload: "{}", response: undefined });
    expect(message.attributes.ErrorCode).toEqual({ DataType: "Number", StringValue: code });
    expect(message.attributes.ErrorMessage).toEqual({ DataType: "String", StringValue: condition });
  });

  it("keeps the first 1 KB of a long message, never splitting a character, and replaces characters SQS refuses", () => {
    const long = "é".repeat(ERROR_MESSAGE_MAX_BYTES);
    const message = deadLetterMessage({ requestId: "r", condition: "RetriesExhausted", payload: "{}", response: functionError(JSON.stringify({ errorMessage: long })) });
    const text = message.attributes.ErrorMessage?.StringValue ?? "";
    expect(new TextEncoder().encode(text).length).toBe(ERROR_MESSAGE_MAX_BYTES);
    expect(text).toBe("é".repeat(ERROR_MESSAGE_MAX_BYTES / 2));

    const control = deadLetterMessage({ requestId: "r", condition: "RetriesExhausted", payload: "{}", response: functionError(JSON.stringify({ errorMessage: "a\u0000b" })) });
    expect(control.attributes.ErrorMessage?.StringValue).toBe("a\uFFFDb");
  });

  it("truncateUtf8 cuts between characters", () => {
    expect(truncateUtf8("ab😀c", 5)).toBe("ab");
    expect(truncateUtf8("ab😀c", 6)).toBe("ab😀");
    expect(truncateUtf8("short", 100)).toBe("short");
  });
});
