import { describe, expect, it } from "vitest";
import { allowsInvoke, permissionStatement, POLICY_MAX_BYTES, policyDocument } from "../../src/lambda/policy";
import { thrownLambdaError } from "../helpers/errors";

/** Shapes from LocalStack's AWS-validated snapshots (test_lambda_api TestLambdaPermissions). */
const FN = "arn:aws:lambda:us-east-1:111111111111:function:f";
const OTHER = "222222222222";

describe("permissionStatement", () => {
  it("builds AWS's statement for a service principal with a source ARN", () => {
    expect(permissionStatement({ StatementId: "s3", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com", SourceArn: "arn:aws:s3:::b" }, FN)).toEqual({
      Sid: "s3",
      Effect: "Allow",
      Principal: { Service: "s3.amazonaws.com" },
      Action: "lambda:InvokeFunction",
      Resource: FN,
      Condition: { ArnLike: { "AWS:SourceArn": "arn:aws:s3:::b" } },
    });
  });

  it("an account id becomes its root ARN; * stays *", () => {
    expect(permissionStatement({ StatementId: "x", Action: "lambda:InvokeFunction", Principal: OTHER }, FN).Principal).toEqual({ AWS: `arn:aws:iam::${OTHER}:root` });
    expect(permissionStatement({ StatementId: "x", Action: "lambda:InvokeFunction", Principal: "*" }, FN).Principal).toBe("*");
  });

  it("refuses a principal AWS refuses", () => {
    const err = thrownLambdaError(() => permissionStatement({ StatementId: "x", Action: "lambda:InvokeFunction", Principal: "invalid principal" }, FN));
    expect([err.type, err.message]).toEqual(["InvalidParameterValueException", "The provided principal was invalid. Please check the principal and try again."]);
  });
});

describe("policyDocument", () => {
  it("wraps statements as AWS does and refuses one over 20 KB", () => {
    const s = permissionStatement({ StatementId: "x", Action: "lambda:InvokeFunction", Principal: OTHER }, FN);
    expect(JSON.parse(policyDocument([s]))).toEqual({ Version: "2012-10-17", Id: "default", Statement: [s] });
    const many = Array.from({ length: 200 }, (_, i) => ({ ...s, Sid: `statement-${i}` }));
    const err = thrownLambdaError(() => policyDocument(many));
    expect(err.type).toBe("PolicyLengthExceededException");
    expect(err.message).toMatch(new RegExp(`^The final policy size \\(\\d+\\) is bigger than the limit \\(${POLICY_MAX_BYTES}\\)\\.$`));
  });
});

describe("allowsInvoke", () => {
  const grant = (principal: string, extra: Record<string, string> = {}, action = "lambda:InvokeFunction") =>
    permissionStatement({ StatementId: "g", Action: action, Principal: principal, ...extra }, FN);

  it("grants the named account and everyone (*), nobody else", () => {
    expect(allowsInvoke([grant(OTHER)], { callerAccountId: OTHER })).toBe(true);
    expect(allowsInvoke([grant(`arn:aws:iam::${OTHER}:root`)], { callerAccountId: OTHER })).toBe(true);
    expect(allowsInvoke([grant("*")], { callerAccountId: "333333333333" })).toBe(true);
    expect(allowsInvoke([grant(OTHER)], { callerAccountId: "333333333333" })).toBe(false);
    expect(allowsInvoke([], { callerAccountId: OTHER })).toBe(false);
  });

  it("only for invoke actions; service principals never match a tenant", () => {
    expect(allowsInvoke([grant(OTHER, {}, "lambda:GetFunction")], { callerAccountId: OTHER })).toBe(false);
    expect(allowsInvoke([grant(OTHER, {}, "lambda:*")], { callerAccountId: OTHER })).toBe(true);
    expect(allowsInvoke([grant("s3.amazonaws.com")], { callerAccountId: OTHER })).toBe(false);
  });

  it("conditions on the source must hold: a direct invoke has no source, so they grant nothing to it", () => {
    const conditioned = grant(OTHER, { SourceArn: "arn:aws:s3:::bucket-*", SourceAccount: OTHER });
    expect(allowsInvoke([conditioned], { callerAccountId: OTHER })).toBe(false);
    expect(allowsInvoke([conditioned], { callerAccountId: OTHER, sourceArn: "arn:aws:s3:::bucket-1", sourceAccount: OTHER })).toBe(true);
    expect(allowsInvoke([conditioned], { callerAccountId: OTHER, sourceArn: "arn:aws:s3:::other", sourceAccount: OTHER })).toBe(false);
  });
});
