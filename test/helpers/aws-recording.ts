import { expect } from "vitest";
import recorded from "../fixtures/aws-recordings/lambda.json";

/**
 * Compares cellfn's answers with AWS's recorded ones (the contract suites,
 * test/integration/contract-*.integration.test.ts).
 *
 * The recordings are LocalStack's AWS-validated snapshots (copied by
 * scripts/extract-aws-recordings.mjs, source commit in the fixture): what boto3
 * returned when each test ran against real AWS, volatile values replaced by
 * placeholders. A response is turned into what botocore would return for it
 * (header-bound members from headers, the status code, error members; the
 * bindings are those of botocore's service model for Lambda, 2015-03-31) and
 * then compared in full: every key, every value, absent vs present. Placeholders
 * match by format, and a numbered one (`<uuid:1>`) must be the same value
 * wherever it recurs in the same recorded test, as LocalStack's references are.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const recordings = recorded.recordings as Record<string, { recordedDate: string; content: Record<string, Json> }>;

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const SHA256_BASE64 = "[A-Za-z0-9+/]{43}=";
/** Lambda's string timestamps: `2024-01-01T00:00:00.000+0000`. */
const LAMBDA_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/;

/** Whole values LocalStack writes without a reference number (`key_value(..., reference_replacement=False)`). */
const WHOLE_VALUE_FORMATS: Record<string, RegExp> = {
  date: LAMBDA_TIMESTAMP,
  "code-sha256": new RegExp(`^${SHA256_BASE64}$`),
  "log-result": /^[A-Za-z0-9+/]+={0,2}$/,
};

/** The format of a `<name>` / `<name:N>` placeholder's value; anything else is one or more characters. */
const TOKEN_FORMATS: Record<string, string> = {
  uuid: UUID,
  "request-id": UUID,
  "code-sha256": SHA256_BASE64,
  "code-size": "[0-9]+",
  "function-name": "[A-Za-z0-9_-]+",
};

/** Exceptions botocore models (members copied to the top level of the parsed error), from its Lambda service model. */
const MODELED_ERRORS = new Set([
  "InvalidParameterValueException",
  "InvalidRequestContentException",
  "PolicyLengthExceededException",
  "PreconditionFailedException",
  "ProvisionedConcurrencyConfigNotFoundException",
  "RecursiveInvocationException",
  "RequestTooLargeException",
  "ResourceConflictException",
  "ResourceInUseException",
  "ResourceNotFoundException",
  "ResourceNotReadyException",
  "ServiceException",
  "TooManyRequestsException",
  "UnsupportedMediaTypeException",
  "CodeStorageExceededException",
]);

/** Operations whose output members botocore takes from the status line or headers (service model `location`). */
export type BoundOperation = "Invoke" | "DeleteFunction";

/**
 * What botocore returns for `res` (its parsed output, or `e.response` of a
 * ClientError), after checking the headers every Lambda answer carries:
 * `x-amzn-RequestId`, `Content-Type: application/json` on a JSON body and
 * `x-amzn-ErrorType` on an error.
 */
export async function asBotocore(res: Response, op?: BoundOperation): Promise<Record<string, Json>> {
  expect(res.headers.get("x-amzn-RequestId"), "x-amzn-RequestId").toMatch(new RegExp(`^${UUID}$`));
  const text = await res.text();
  const metadata = { ResponseMetadata: { HTTPHeaders: {}, HTTPStatusCode: res.status } };
  if (text !== "") expect(res.headers.get("content-type"), "Content-Type").toBe("application/json");
  if (res.status >= 400) {
    const code = res.headers.get("x-amzn-ErrorType");
    expect(code, "x-amzn-ErrorType").toMatch(/^[A-Za-z]+Exception$/);
    const body = JSON.parse(text) as Record<string, Json>;
    const error = { Error: { Code: code, Message: body.message ?? body.Message ?? "" } };
    if (MODELED_ERRORS.has(String(code))) return { ...error, ...body, ...metadata };
    expect(Object.keys(body).filter((k) => k !== "message" && k !== "Message"), "unmodeled error body").toEqual([]);
    return { ...error, ...metadata };
  }
  if (op === "Invoke") {
    const out: Record<string, Json> = {};
    const executed = res.headers.get("X-Amz-Executed-Version");
    const functionError = res.headers.get("X-Amz-Function-Error");
    const logResult = res.headers.get("X-Amz-Log-Result");
    if (executed !== null) out.ExecutedVersion = executed;
    if (functionError !== null) out.FunctionError = functionError;
    if (logResult !== null) out.LogResult = logResult;
    // LocalStack records a JSON object payload parsed and anything else as its text.
    out.Payload = payloadAsRecorded(text);
    out.StatusCode = res.status;
    return { ...out, ...metadata };
  }
  const body = text === "" ? {} : (JSON.parse(text) as Record<string, Json>);
  return { ...(op === "DeleteFunction" ? { StatusCode: res.status } : {}), ...body, ...metadata };
}

function payloadAsRecorded(text: string): Json {
  try {
    const parsed = JSON.parse(text) as Json;
    return parsed !== null && typeof parsed === "object" ? parsed : text;
  } catch {
    return text;
  }
}

/** One recorded LocalStack test: its snapshot keys share placeholder bindings. */
export class AwsRecording {
  readonly #content: Record<string, Json>;
  readonly #bindings = new Map<string, string>();

  /**
   * `test` is the recorded test's key or its tail (`TestLambdaAlias::test_alias_lifecycle`);
   * `inputs` replaces recorded values that were the test's own inputs and that cellfn cannot
   * take as they were (a Python runtime, say), whole values only.
   */
  constructor(
    readonly test: string,
    readonly accountId: string,
    readonly inputs: Record<string, Json> = {},
  ) {
    const key = Object.keys(recordings).find((k) => k === test || k.endsWith(`::${test}`));
    if (key === undefined) throw new Error(`no AWS recording for ${test}; add it to scripts/extract-aws-recordings.mjs`);
    this.#content = recordings[key]?.content ?? {};
  }

  /** Fixes a placeholder in advance (`function-name:1`, or `fn-name`: the function this test created). */
  bind(placeholder: string, value: string): this {
    this.#bindings.set(placeholder, value);
    return this;
  }

  /** The recorded value at `path` (`create_response.CreateFunctionResponse`; "" for the whole test). */
  expected(path: string): Json {
    let value: Json = this.#content;
    for (const part of path === "" ? [] : path.split(".")) {
      if (value === null || typeof value !== "object" || Array.isArray(value) || !(part in value)) {
        throw new Error(`${this.test} has no recording at ${path}`);
      }
      value = value[part] ?? null;
    }
    return value;
  }

  /** Asserts that `actual` (usually `await asBotocore(res)`) is what AWS answered at `path`. */
  match(path: string, actual: unknown): void {
    const expected = this.expected(path);
    expect(actual, `${this.test} ${path}`).toStrictEqual(this.#realise(expected, actual as Json, path));
  }

  /** Checks the response's headers, parses it as botocore does and matches it. */
  async matchResponse(path: string, res: Response, op?: BoundOperation): Promise<Record<string, Json>> {
    const actual = await asBotocore(res, op);
    this.match(path, actual);
    return actual;
  }

  /**
   * The expected value with every placeholder that `actual` satisfies replaced
   * by actual's value, so a strict comparison shows exactly what differs.
   */
  #realise(expected: Json, actual: Json | undefined, path: string): Json {
    if (Array.isArray(expected)) {
      const items = Array.isArray(actual) ? actual : [];
      return expected.map((item, i) => this.#realise(item, items[i], `${path}[${i}]`));
    }
    if (expected !== null && typeof expected === "object") {
      const fields = actual !== null && typeof actual === "object" && !Array.isArray(actual) ? actual : {};
      return Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, this.#realise(v, fields[k], `${path}.${k}`)]));
    }
    if (typeof expected !== "string") return expected;
    if (Object.hasOwn(this.inputs, expected)) return this.inputs[expected] ?? null;
    return this.#matchString(expected, actual) ? (actual ?? null) : expected;
  }

  #boundElsewhere(name: string, id: string, value: string): boolean {
    for (const [other, bound] of this.#bindings) if (other !== id && other.startsWith(`${name}:`) && bound === value) return true;
    return false;
  }

  #matchString(expected: string, actual: Json | undefined): boolean {
    // A timestamp member of the model (botocore gives a datetime): on the wire, epoch seconds.
    if (expected === "datetime") return typeof actual === "number" && actual > 1e9 && actual < 1e10;
    const whole = WHOLE_VALUE_FORMATS[expected];
    if (whole) return typeof actual === "string" && whole.test(actual);
    const literal = expected
      .replaceAll("<partition>", "aws")
      .replaceAll("<region>", "us-east-1")
      .replaceAll("111111111111", this.accountId)
      // `<a:len(65)>`: a run of that many "a"s (a name or qualifier over its limit).
      .replace(/<a:len\((\d+)\)>/g, (_, n: string) => "a".repeat(Number(n)));
    const tokens: { name: string; ref: string | undefined }[] = [];
    const pattern = literal.replace(/<([a-z0-9_-]+)(?::(\d+))?>|[.*+?^${}()|[\]\\]/g, (match, name?: string, ref?: string) => {
      if (name === undefined) return `\\${match}`;
      tokens.push({ name, ref });
      return `(${TOKEN_FORMATS[name] ?? ".+?"})`;
    });
    if (tokens.length === 0) return actual === literal;
    // `<code-size>` stands for a number; every other placeholder for (part of) a string.
    const numeric = expected === "<code-size>";
    if (numeric ? typeof actual !== "number" : typeof actual !== "string") return false;
    const found = new RegExp(`^${pattern}$`, "s").exec(String(actual));
    if (!found) return false;
    const fresh = new Map<string, string>();
    for (const [i, { name, ref }] of tokens.entries()) {
      const value = found[i + 1] ?? "";
      // An unnumbered placeholder is checked only against a value the test bound in advance.
      if (ref === undefined) {
        const fixed = this.#bindings.get(name);
        if (fixed !== undefined && fixed !== value) return false;
        continue;
      }
      const id = `${name}:${ref}`;
      const bound = this.#bindings.get(id) ?? fresh.get(id);
      if (bound !== undefined && bound !== value) return false;
      // Another number of the same placeholder is another value (LocalStack numbers each new value).
      if (bound === undefined && this.#boundElsewhere(name, id, value)) return false;
      fresh.set(id, value);
    }
    for (const [id, value] of fresh) this.#bindings.set(id, value);
    return true;
  }
}
