import { describe, expect, it } from "vitest";
import { LambdaError } from "../../src/errors";
import {
  checkDeadLetterTarget,
  checkDestinations,
  DESTINATION_ARN_PATTERN_TEXT,
  eventInvokeConfigSchema,
  parseDestination,
} from "../../src/lambda/destination-config";
import { parseJsonBody } from "../../src/lambda/validation";
import { thrownLambdaError } from "../helpers/errors";

const ctx = { accountId: "111122223333", region: "us-east-1" };
const fnArn = (name: string) => `arn:aws:lambda:us-east-1:111122223333:function:${name}`;


async function asyncErrorOf(fn: () => Promise<unknown>): Promise<LambdaError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof LambdaError) return err;
    throw err;
  }
  throw new Error("expected a LambdaError");
}

describe("parseDestination", () => {
  it.each([
    [fnArn("other"), { kind: "function", name: "other" }],
    [`${fnArn("other")}:7`, { kind: "function", name: "other", qualifier: "7" }],
    [`${fnArn("other")}:$LATEST`, { kind: "function", name: "other", qualifier: "$LATEST" }],
    [`${fnArn("other")}:live`, { kind: "function", name: "other", qualifier: "live" }],
    [`${fnArn("a_b-C9")}`, { kind: "function", name: "a_b-C9" }],
  ])("takes the function ARN %s", (raw, expected) => {
    expect(parseDestination(raw, ctx)).toEqual(expected);
  });

  it.each(["arn:aws:sqs:us-east-1:111122223333:failed-events", "arn:aws:sqs:us-east-1:111122223333:ordered.fifo"])("takes the queue ARN %s", (raw) => {
    expect(parseDestination(raw, ctx)).toEqual({ kind: "queue", arn: raw });
  });

  it.each([
    "arn:aws:sqs:us-east-1:111122223333:",
    "arn:aws:sqs:us-east-1:111122223333:bad name",
    `arn:aws:sqs:us-east-1:111122223333:${"q".repeat(81)}`,
    "arn:aws:sqs:us-east-1:111122223333:q:extra",
    "arn:aws:sqs::111122223333:q",
    "arn:aws:sqs:us-east-1::q",
  ])("refuses the malformed queue ARN %s as an invalid destination", (raw) => {
    expect(thrownLambdaError(() => parseDestination(raw, ctx)).message).toBe(`The destination ARN ${raw} is invalid.`);
  });

  it.each([
    "https://hooks.example.com/lambda/done?token=abc",
    "http://10.0.0.5:8080/records",
    "https://example.com",
    "HTTPS://Example.COM/x",
    "http://[::1]/x",
  ])("takes the URL %s", (raw) => {
    const parsed = parseDestination(raw, ctx);
    expect(parsed.kind).toBe("url");
    if (parsed.kind !== "url") return;
    expect(parsed.url).toBeInstanceOf(URL);
    expect(parsed.url.href).toBe(new URL(raw).href);
  });

  it.each([
    // another account, another region, other partitions of the resource
    "arn:aws:lambda:us-east-1:999999999999:function:other",
    "arn:aws:lambda:eu-west-1:111122223333:function:other",
    "arn:aws:lambda:us-east-1::function:other",
    "arn:aws:lambda::111122223333:function:other",
    "arn:aws:lambda:us-east-1:111122223333:layer:shared:1",
    "arn:aws:lambda:us-east-1:111122223333:function:",
    "arn:aws:lambda:us-east-1:111122223333:function:bad.name",
    "arn:aws:lambda:us-east-1:111122223333:function:other:1:2",
    `arn:aws:lambda:us-east-1:111122223333:function:${"x".repeat(65)}`,
    // not an ARN, not an http(s) URL
    "other",
    "111122223333:function:other",
    "ftp://example.com/x",
    "https://",
    "http://:80/x",
    "arn:aws:iam::111122223333:role/x",
  ])("refuses %s as an invalid destination", (raw) => {
    const err = thrownLambdaError(() => parseDestination(raw, ctx));
    expect(err.status).toBe(400);
    expect(err.type).toBe("InvalidParameterValueException");
    expect(err.message).toBe(`The destination ARN ${raw} is invalid.`);
  });

  it.each([
    ["arn:aws:sns:us-east-1:111122223333:topic", "an Amazon SNS topic"],
    ["arn:aws:events:us-east-1:111122223333:event-bus/default", "an Amazon EventBridge event bus"],
    ["arn:aws:s3:::my-bucket", "an Amazon S3 bucket"],
  ])("refuses %s: cellfn does not deliver to it", (raw, what) => {
    const err = thrownLambdaError(() => parseDestination(raw, ctx));
    expect(err.status).toBe(400);
    expect(err.type).toBe("InvalidParameterValueException");
    expect(err.message).toBe(
      `The destination ${raw} is ${what}, which cellfn does not deliver to: cellfn delivers to Lambda function ARNs, SQS queue ARNs and http(s) URLs only.`,
    );
  });
});

describe("checkDestinations", () => {
  const existing = new Set(["self", "other"]);
  const exists = async (name: string) => existing.has(name);

  it("accepts another function of the account and URLs, skipping empty members", async () => {
    await expect(checkDestinations({ onSuccess: fnArn("other"), onFailure: "https://x.example/f" }, ctx, "self", exists)).resolves.toBeUndefined();
    await expect(checkDestinations({ onSuccess: "" }, ctx, "self", exists)).resolves.toBeUndefined();
    await expect(checkDestinations({}, ctx, "self", exists)).resolves.toBeUndefined();
  });

  it("refuses the function itself, with or without a qualifier", async () => {
    for (const raw of [fnArn("self"), `${fnArn("self")}:1`, `${fnArn("self")}:$LATEST`]) {
      const err = await asyncErrorOf(() => checkDestinations({ onSuccess: raw }, ctx, "self", exists));
      expect(err.type).toBe("InvalidParameterValueException");
      expect(err.message).toBe("You can't specify the function as a destination for itself.");
    }
  });

  it("refuses a function that does not exist as an invalid ARN", async () => {
    const err = await asyncErrorOf(() => checkDestinations({ onFailure: fnArn("missing") }, ctx, "self", exists));
    expect(err.type).toBe("InvalidParameterValueException");
    expect(err.message).toBe(`The destination ARN ${fnArn("missing")} is invalid.`);
  });

  it("refuses an ARN of a service Lambda has no destinations for with Lambda's whole-config message", async () => {
    const iam = "arn:aws:iam:us-east-1:111122223333:function:self";
    const only = await asyncErrorOf(() => checkDestinations({ onSuccess: iam }, ctx, "self", exists));
    expect(only.type).toBe("InvalidParameterValueException");
    expect(only.message).toBe(`The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=${iam}), onFailure=null) is invalid.`);

    const both = await asyncErrorOf(() => checkDestinations({ onSuccess: "https://x.example", onFailure: iam }, ctx, "self", exists));
    expect(both.message).toBe(
      `The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=https://x.example), onFailure=OnFailure(destination=${iam})) is invalid.`,
    );
  });

  it("accepts a queue of the account and region, existing or not (delivery finds out)", async () => {
    await expect(checkDestinations({ onSuccess: "arn:aws:sqs:us-east-1:111122223333:q", onFailure: "arn:aws:sqs:us-east-1:111122223333:q.fifo" }, ctx, "self", exists)).resolves.toBeUndefined();
  });

  it("refuses another account's or region's queue with Lambda's execution-role message", async () => {
    for (const raw of ["arn:aws:sqs:us-east-1:444455556666:q", "arn:aws:sqs:eu-west-1:111122223333:q"]) {
      const err = await asyncErrorOf(() => checkDestinations({ onFailure: raw }, ctx, "self", exists));
      expect(err.type).toBe("InvalidParameterValueException");
      expect(err.message).toBe(`The function's execution role does not have permissions to call SendMessage on ${raw}`);
    }
  });
});

describe("checkDeadLetterTarget", () => {
  it("takes the targets of a destination and refuses the function itself", () => {
    expect(checkDeadLetterTarget(fnArn("other"), ctx, "self")).toEqual({ kind: "function", name: "other" });
    expect(checkDeadLetterTarget("https://dlq.example/", ctx, "self").kind).toBe("url");
    expect(thrownLambdaError(() => checkDeadLetterTarget(fnArn("self"), ctx, "self")).message).toBe(
      "You can't specify the function as a destination for itself.",
    );
  });

  it("takes a queue of the account and region; another account's gets Lambda's execution-role message", () => {
    expect(checkDeadLetterTarget("arn:aws:sqs:us-east-1:111122223333:dlq", ctx, "self")).toEqual({ kind: "queue", arn: "arn:aws:sqs:us-east-1:111122223333:dlq" });
    for (const raw of ["arn:aws:sqs:us-east-1:444455556666:dlq", "arn:aws:sqs:eu-west-1:111122223333:dlq"]) {
      const err = thrownLambdaError(() => checkDeadLetterTarget(raw, ctx, "self"));
      expect(err.type).toBe("InvalidParameterValueException");
      expect(err.message).toBe("The provided execution role does not have permissions to call SendMessage on SQS");
    }
    expect(thrownLambdaError(() => checkDeadLetterTarget("arn:aws:sqs:us-east-1:111122223333:bad name", ctx, "self")).message).toBe(
      "The destination ARN arn:aws:sqs:us-east-1:111122223333:bad name is invalid.",
    );
  });
});

describe("eventInvokeConfigSchema", () => {
  const parse = (body: unknown) => parseJsonBody(eventInvokeConfigSchema, JSON.stringify(body));

  it("accepts the full body, empty members and nulls", () => {
    expect(
      parse({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60, DestinationConfig: { OnSuccess: { Destination: fnArn("x") }, OnFailure: {} } }),
    ).toEqual({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60, DestinationConfig: { OnSuccess: { Destination: fnArn("x") }, OnFailure: {} } });
    expect(parse({ MaximumRetryAttempts: null, DestinationConfig: { OnSuccess: { Destination: "" } } })).toEqual({
      MaximumRetryAttempts: null,
      DestinationConfig: { OnSuccess: { Destination: "" } },
    });
    expect(parse({})).toEqual({});
  });

  it.each([
    [{ MaximumRetryAttempts: 3 }, "Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2"],
    [{ MaximumRetryAttempts: -1 }, "Value '-1' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value greater than or equal to 0"],
    [{ MaximumEventAgeInSeconds: 59 }, "Value '59' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60"],
    [{ MaximumEventAgeInSeconds: 21601 }, "Value '21601' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value less than or equal to 21600"],
    [
      { DestinationConfig: { OnFailure: { Destination: "arn:aws:_-/!lambda:us-east-1:111122223333:function:f" } } },
      `Value 'arn:aws:_-/!lambda:us-east-1:111122223333:function:f' at 'destinationConfig.onFailure.destination' failed to satisfy constraint: Member must satisfy regular expression pattern: ${DESTINATION_ARN_PATTERN_TEXT}`,
    ],
    [
      { DestinationConfig: { OnSuccess: { Destination: `https://x.example/${"a".repeat(340)}` } } },
      `Value 'https://x.example/${"a".repeat(340)}' at 'destinationConfig.onSuccess.destination' failed to satisfy constraint: Member must have length less than or equal to 350`,
    ],
  ])("refuses %j with a ValidationException", (body, message) => {
    const err = thrownLambdaError(() => parse(body));
    expect(err.status).toBe(400);
    expect(err.type).toBe("ValidationException");
    expect(err.message).toBe(`1 validation error detected: ${message}`);
  });

  it("counts every constraint failure", () => {
    const err = thrownLambdaError(() => parse({ MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 1 }));
    expect(err.message).toMatch(/^2 validation errors detected: /);
  });

  it.each([
    [{ MaximumRetryAttempts: 1, Extra: true }, 'Unrecognized field "Extra", not marked as ignorable'],
    [{ DestinationConfig: { OnSuccess: { Destination: "x", Arn: "y" } } }, 'Unrecognized field "Arn", not marked as ignorable'],
    [{ DestinationConfig: { OnDone: {} } }, 'Unrecognized field "OnDone", not marked as ignorable'],
    [{ MaximumRetryAttempts: "1" }, "Cannot deserialize value of type `number` from string value at 'maximumRetryAttempts'"],
  ])("refuses %j as unparseable", (body, detail) => {
    const err = thrownLambdaError(() => parse(body));
    expect(err.type).toBe("InvalidRequestContentException");
    expect(err.message).toBe(`Could not parse request body into json: ${detail}`);
  });
});
