import { describe, expect, it } from "vitest";
import { functionArn, parseFunctionName, parseNewFunctionName } from "../../src/lambda/function-name";
import { thrownLambdaError } from "../helpers/errors";

const ctx = { accountId: "111122223333", region: "us-east-1" };
const qualified = { qualified: true } as const;


describe("parseFunctionName", () => {
  it.each([
    ["my-function", { name: "my-function" }],
    ["my-function:7", { name: "my-function", qualifier: "7" }],
    ["my-function:$LATEST", { name: "my-function", qualifier: "$LATEST" }],
    ["my-function:live", { name: "my-function", qualifier: "live" }],
    ["111122223333:function:my-function", { name: "my-function" }],
    ["111122223333:function:my-function:live", { name: "my-function", qualifier: "live" }],
    ["arn:aws:lambda:us-east-1:111122223333:function:my-function", { name: "my-function" }],
    ["arn:aws:lambda:us-east-1:111122223333:function:my-function:3", { name: "my-function", qualifier: "3" }],
  ])("accepts %s", (raw, expected) => {
    expect(parseFunctionName(raw, ctx, qualified)).toEqual(expected);
  });

  it("takes the qualifier from the query parameter", () => {
    expect(parseFunctionName("f", ctx, { qualified: true, qualifierParam: "2" })).toEqual({ name: "f", qualifier: "2" });
    expect(parseFunctionName("f:2", ctx, { qualified: true, qualifierParam: "2" })).toEqual({ name: "f", qualifier: "2" });
  });

  it("refuses a name qualifier that disagrees with Qualifier", () => {
    const err = thrownLambdaError(() => parseFunctionName("f:1", ctx, { qualified: true, qualifierParam: "2" }));
    expect(err.type).toBe("InvalidParameterValueException");
    expect(err.message).toBe("The derived qualifier from the function name does not match the specified qualifier.");
  });

  it("answers 403 with no detail for another account's ARN", () => {
    const err = thrownLambdaError(() => parseFunctionName("arn:aws:lambda:us-east-1:999988887777:function:f", ctx, qualified));
    expect(err.status).toBe(403);
    expect(err.type).toBe("AccessDeniedException");
    expect(err.message).toBe("");
  });

  it("answers 404 for another region's ARN", () => {
    const err = thrownLambdaError(() => parseFunctionName("arn:aws:lambda:eu-west-1:111122223333:function:f", ctx, qualified));
    expect(err.status).toBe(404);
    expect(err.message).toBe("Functions from 'eu-west-1' are not reachable in this region ('us-east-1')");
  });

  it("limits a new function's name to 64 characters with InvalidParameterValueException; elsewhere a long name is just not found", () => {
    const err = thrownLambdaError(() => parseNewFunctionName("a".repeat(65), ctx));
    expect([err.type, err.message]).toEqual([
      "InvalidParameterValueException",
      `1 validation error detected: Value '${"a".repeat(65)}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64`,
    ]);
    expect(parseNewFunctionName("a".repeat(64), ctx)).toBe("a".repeat(64));
    // AWS: GetFunction / DeleteFunction of a 65-character name → 404 Function not found.
    expect(parseFunctionName("a".repeat(65), ctx, qualified)).toEqual({ name: "a".repeat(65) });
  });

  // Expected answers: LocalStack's AWS-validated snapshot test_lambda_api.snapshot.json,
  // TestLambdaFunction::test_function_name_and_qualifier_validation[<case>-get_function|create_function].
  const GET_PATTERN =
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";
  const CREATE_PATTERN =
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?";

  it("a qualifier of 129 characters → ValidationException on 'qualifier' (max 128)", () => {
    const err = thrownLambdaError(() => parseFunctionName("my-function", ctx, { qualified: true, qualifierParam: "a".repeat(129) }));
    expect([err.type, err.message]).toEqual([
      "ValidationException",
      `1 validation error detected: Value '${"a".repeat(129)}' at 'qualifier' failed to satisfy constraint: Member must have length less than or equal to 128`,
    ]);
  });

  it("counts and lists every violation: an ARN with an invalid region and a qualifier of 129", () => {
    const raw = `arn:aws:lambda:invalid-region:111122223333:function:my-function-${"a".repeat(170)}`;
    const err = thrownLambdaError(() => parseFunctionName(raw, ctx, { qualified: true, qualifierParam: "a".repeat(129) }));
    expect(err.type).toBe("ValidationException");
    expect(err.message).toBe(
      `2 validation errors detected: Value '${raw}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${GET_PATTERN}; ` +
        `Value '${"a".repeat(129)}' at 'qualifier' failed to satisfy constraint: Member must have length less than or equal to 128`,
    );
  });

  it("CreateFunction names its own pattern", () => {
    const err = thrownLambdaError(() => parseNewFunctionName("my-function!", ctx));
    expect(err.message).toBe(
      `1 validation error detected: Value 'my-function!' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${CREATE_PATTERN}`,
    );
  });

  it("$latest in lower case is a valid qualifier that names nothing (AWS: 404 Function not found: ...:$latest)", () => {
    expect(parseFunctionName("my-function", ctx, { qualified: true, qualifierParam: "$latest" })).toEqual({ name: "my-function", qualifier: "$latest" });
  });

  it.each(["arn:aws:lambda::111122223333:function:f", "arn:aws:lambda:us-east-1::function:f", "arn:aws:lambda:us-east-1:111122223333:function:f:$LATES", "function:f:$LATEST:extra", "*"])(
    "%s → ValidationException with the Get pattern",
    (raw) => {
      const err = thrownLambdaError(() => parseFunctionName(raw, ctx, qualified));
      expect(err.message).toBe(`1 validation error detected: Value '${raw}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${GET_PATTERN}`);
    },
  );

  it("refuses bad characters with ValidationException naming the pattern", () => {
    const err = thrownLambdaError(() => parseFunctionName("bad name!", ctx, qualified));
    expect(err.type).toBe("ValidationException");
    expect(err.message).toContain("at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern");
  });

  it("refuses a qualifier where the operation takes none", () => {
    const err = thrownLambdaError(() => parseFunctionName("f:1", ctx, { qualified: false }));
    expect(err.type).toBe("ValidationException");
  });

  it("refuses a malformed Qualifier parameter", () => {
    const err = thrownLambdaError(() => parseFunctionName("f", ctx, { qualified: true, qualifierParam: "no/slash" }));
    expect(err.type).toBe("ValidationException");
  });
});

describe("functionArn", () => {
  it("builds unqualified and qualified ARNs", () => {
    expect(functionArn(ctx, "f")).toBe("arn:aws:lambda:us-east-1:111122223333:function:f");
    expect(functionArn(ctx, "f", "$LATEST")).toBe("arn:aws:lambda:us-east-1:111122223333:function:f:$LATEST");
  });
});
