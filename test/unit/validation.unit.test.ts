import { describe, expect, it } from "vitest";
import { LambdaError } from "../../src/errors";
import { newFunctionConfig, updatedFunctionConfig } from "../../src/lambda/function-config";
import { createFunctionSchema } from "../../src/lambda/schemas";
import { parseJsonBody } from "../../src/lambda/validation";
import { thrownLambdaError } from "../helpers/errors";

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

  it("leaves the Runtime enum to the service checks (Lambda answers InvalidParameterValueException there)", () => {
    expect(parseJsonBody(createFunctionSchema, JSON.stringify({ ...valid, Runtime: "nodejs99" })).Runtime).toBe("nodejs99");
  });

  it("refuses a Runtime that is not a string as unparseable", () => {
    const err = failure(JSON.stringify({ ...valid, Runtime: 22 }));
    expect(err.type).toBe("InvalidRequestContentException");
    expect(err.message).toContain("runtime");
  });
});

/**
 * The runtimes AWS lists when it refuses a Runtime outside its enum (its recorded answer, LocalStack's
 * test_lambda_api snapshot test_create_lambda_exceptions › invalid_runtime_exc), then "or be a valid ARN".
 */
const LAMBDA_RUNTIME_ENUM =
  "[nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, " +
  "java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, " +
  "provided.al2, java8.al2] or be a valid ARN";


describe("Runtime checks (CreateFunction / UpdateFunctionConfiguration)", () => {
  const input = parseJsonBody(createFunctionSchema, JSON.stringify(valid));
  const current = newFunctionConfig("f", input);
  const create = (Runtime: string) => () => newFunctionConfig("f", { ...input, Runtime });
  const update = (Runtime: string) => () => updatedFunctionConfig("f", current, { Runtime });

  it.each(["nodejs99", "NodeJS22.x", "nodejs22", ""])(
    "a runtime outside Lambda's enum (%j) → 400 InvalidParameterValueException listing the enum",
    (runtime) => {
      for (const build of [create(runtime), update(runtime)]) {
        const err = thrownLambdaError(build);
        expect(err.status).toBe(400);
        expect(err.type).toBe("InvalidParameterValueException");
        expect(err.message).toBe(
          `Value ${runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: ${LAMBDA_RUNTIME_ENUM}`,
        );
      }
    },
  );

  it.each(["python3.12", "java21", "ruby3.4"])(
    "a runtime in Lambda's enum that cellfn does not run (%s) → 400 InvalidParameterValueException naming the supported ones",
    (runtime) => {
      for (const build of [create(runtime), update(runtime)]) {
        const err = thrownLambdaError(build);
        expect(err.status).toBe(400);
        expect(err.type).toBe("InvalidParameterValueException");
        expect(err.message).toBe(
          `The runtime parameter of ${runtime} is not supported by cellfn. Supported runtimes: nodejs20.x, nodejs22.x, nodejs24.x.`,
        );
      }
    },
  );

  it.each(["nodejs20.x", "nodejs22.x", "nodejs24.x"])("%s is accepted", (runtime) => {
    expect(create(runtime)().Runtime).toBe(runtime);
    expect(update(runtime)().Runtime).toBe(runtime);
  });
});
