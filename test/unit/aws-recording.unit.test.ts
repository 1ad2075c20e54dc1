import { describe, expect, it } from "vitest";
import { AwsRecording, asBotocore } from "../helpers/aws-recording";

/**
 * The contract suites' comparison (test/helpers/aws-recording.ts) fails on every kind of
 * difference it exists to catch, against a real recording
 * (TestLambdaFunction::test_function_lifecycle › get_function_response).
 */

const ACCOUNT = "000000000042";
const UUID_A = "0f6b1c0e-4a44-4c43-9d7f-2c1c6c0b8a11";
const UUID_B = "7d2a6e52-58f7-4b6b-a6c4-93e6f8d1c0aa";
const SHA = "a".repeat(43) + "=";

function getFunctionAnswer(): Record<string, unknown> {
  const arn = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:fn-x`;
  return {
    Code: { Location: "https://example.test/x", RepositoryType: "S3" },
    Configuration: {
      Architectures: ["x86_64"],
      CodeSha256: SHA,
      CodeSize: 300,
      Description: "",
      Environment: { Variables: {} },
      EphemeralStorage: { Size: 512 },
      FunctionArn: arn,
      FunctionName: "fn-x",
      Handler: "handler.handler",
      LastModified: "2025-01-02T03:04:05.678+0000",
      LastUpdateStatus: "Successful",
      LoggingConfig: { LogFormat: "Text", LogGroup: "/aws/lambda/fn-x" },
      MemorySize: 256,
      PackageType: "Zip",
      RevisionId: UUID_B,
      Role: `arn:aws:iam::${ACCOUNT}:role/r`,
      Runtime: "nodejs22.x",
      RuntimeVersionConfig: { RuntimeVersionArn: "arn:aws:lambda:us-east-1::runtime:x" },
      SnapStart: { ApplyOn: "None", OptimizationStatus: "Off" },
      State: "Active",
      Timeout: 5,
      TracingConfig: { Mode: "PassThrough" },
      Version: "$LATEST",
    },
    ResponseMetadata: { HTTPHeaders: {}, HTTPStatusCode: 200 },
  };
}

const recording = () =>
  new AwsRecording("TestLambdaFunction::test_function_lifecycle", ACCOUNT, { "python3.12": "nodejs22.x" }).bind("uuid:1", UUID_A);

function mutated(change: (config: Record<string, unknown>) => void) {
  const answer = getFunctionAnswer();
  change(answer.Configuration as Record<string, unknown>);
  return answer;
}

describe("AwsRecording", () => {
  it("accepts the answer AWS recorded, placeholders matched by format", () => {
    expect(() => recording().match("get_function_response", getFunctionAnswer())).not.toThrow();
  });

  it.each([
    ["an extra field", (c: Record<string, unknown>) => void (c.KMSKeyArn = "arn:aws:kms:x")],
    ["a missing field", (c: Record<string, unknown>) => void delete c.LoggingConfig],
    ["null for an absent field", (c: Record<string, unknown>) => void (c.StateReason = null)],
    ["another value", (c: Record<string, unknown>) => void (c.MemorySize = 128)],
    ["a number as a string", (c: Record<string, unknown>) => void (c.CodeSize = "300")],
    ["a timestamp in another format", (c: Record<string, unknown>) => void (c.LastModified = "2025-01-02T03:04:05Z")],
    ["a RevisionId that is not a uuid", (c: Record<string, unknown>) => void (c.RevisionId = "rev-2")],
    ["the RevisionId of an earlier answer (`<uuid:1>` where `<uuid:2>` is recorded)", (c: Record<string, unknown>) => void (c.RevisionId = UUID_A)],
    ["a CodeSha256 in hex", (c: Record<string, unknown>) => void (c.CodeSha256 = "ab".repeat(32))],
    ["another account in an ARN", (c: Record<string, unknown>) => void (c.FunctionArn = "arn:aws:lambda:us-east-1:111111111111:function:fn-x")],
    ["a runtime the recording's input does not map to", (c: Record<string, unknown>) => void (c.Runtime = "python3.12")],
  ])("fails on %s", (_, change) => {
    expect(() => recording().match("get_function_response", mutated(change))).toThrow();
  });

  it("binds numbered placeholders across keys: the function name must stay the same", () => {
    const aws = recording().bind("function-name:1", "another-fn");
    expect(() => aws.match("get_function_response", getFunctionAnswer())).toThrow();
  });

  it("reads errors as botocore does and checks the headers AWS sends", async () => {
    const headers = { "content-type": "application/json", "x-amzn-RequestId": UUID_A, "x-amzn-ErrorType": "ResourceNotFoundException" };
    const message = `Function not found: arn:aws:lambda:us-east-1:${ACCOUNT}:function:fn-x`;
    const body = JSON.stringify({ Type: "User", Message: message });
    const aws = recording().bind("function-name:1", "fn-x");
    aws.match("delete_postdelete", await asBotocore(new Response(body, { status: 404, headers }), "DeleteFunction"));
    const lowercase = JSON.stringify({ Type: "User", message });
    await expect(async () => aws.match("delete_postdelete", await asBotocore(new Response(lowercase, { status: 404, headers })))).rejects.toThrow();
    const noType = { ...headers, "x-amzn-ErrorType": "" };
    await expect(asBotocore(new Response(body, { status: 404, headers: noType }))).rejects.toThrow();
    const noRequestId = { "content-type": "application/json", "x-amzn-ErrorType": "ResourceNotFoundException" };
    await expect(asBotocore(new Response(body, { status: 404, headers: noRequestId }))).rejects.toThrow();
    const textPlain = { ...headers, "content-type": "text/plain" };
    await expect(asBotocore(new Response(body, { status: 404, headers: textPlain }))).rejects.toThrow();
  });
});
