import { describe, expect, it } from "vitest";
import { LambdaError } from "../../src/errors";
import { createFunctionSchema } from "../../src/lambda/schemas";
import { parseJsonBody } from "../../src/lambda/validation";

const valid = {
  FunctionName: "f",
  Role: "arn:aws:iam::123456789012:role/r",
  Runtime: "nodejs22.x",
  Handler: "index.handler",
  Code: { ZipFile: "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==" },
};

function failure(body: string): LambdaError {
  try {
    parseJsonBody(createFunctionSchema, body);
  } catch (err) {
    if (err instanceof LambdaError) return err;
    throw err;
  }
  throw new Error("expected a LambdaError");
}

describe("parseJsonBody", () => {
  it("returns the typed value for a valid body", () => {
    expect(parseJsonBody(createFunctionSchema, JSON.stringify(valid)).Handler).toBe("index.handler");
  });

  it("refuses text that is not JSON with InvalidRequestContentException", () => {
    const err = failure("{not json");
    expect(err.status).toBe(400);
    expect(err.type).toBe("InvalidRequestContentException");
    expect(err.message).toMatch(/^Could not parse request body into json: /);
  });

  it("refuses an unknown field and names it", () => {
    const err = failure(JSON.stringify({ ...valid, Bogus: 1 }));
    expect(err.type).toBe("InvalidRequestContentException");
    expect(err.message).toContain('Unrecognized field "Bogus"');
  });

  it("refuses a field of the wrong JSON type", () => {
    const err = failure(JSON.stringify({ ...valid, Timeout: "ten" }));
    expect(err.type).toBe("InvalidRequestContentException");
    expect(err.message).toContain("timeout");
  });

  it("reports model constraints in Lambda's validation format", () => {
    const err = failure(JSON.stringify({ ...valid, MemorySize: 64 }));
    expect(err.type).toBe("ValidationException");
    expect(err.message).toBe(
      "1 validation error detected: Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128",
    );
  });

  it("reports a missing required member as null", () => {
    const { Role: _omit, ...noRole } = valid;
    const err = failure(JSON.stringify(noRole));
    expect(err.type).toBe("ValidationException");
    expect(err.message).toBe("1 validation error detected: Value null at 'role' failed to satisfy constraint: Member must not be null");
  });

  it("counts several errors", () => {
    const err = failure(JSON.stringify({ ...valid, MemorySize: 64, Timeout: 0 }));
    expect(err.message).toMatch(/^2 validation errors detected: /);
  });

  it("lists the enum for an unknown runtime", () => {
    const err = failure(JSON.stringify({ ...valid, Runtime: "nodejs99" }));
    expect(err.type).toBe("ValidationException");
    expect(err.message).toContain("Member must satisfy enum value set: [");
    expect(err.message).toContain("nodejs22.x");
  });
});
