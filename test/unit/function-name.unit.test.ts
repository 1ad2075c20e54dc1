import { describe, expect, it } from "vitest";
import { functionArn, parseFunctionName } from "../../src/lambda/function-name";
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

  it("limits the bare name to 64 characters with InvalidParameterValueException", () => {
    const err = thrownLambdaError(() => parseFunctionName("a".repeat(65), ctx, qualified));
    expect(err.type).toBe("InvalidParameterValueException");
    expect(err.message).toContain("Member must have length less than or equal to 64");
    expect(parseFunctionName("a".repeat(64), ctx, qualified)).toEqual({ name: "a".repeat(64) });
  });

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
