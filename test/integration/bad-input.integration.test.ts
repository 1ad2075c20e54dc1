import { beforeAll, describe, expect, it } from "vitest";
import { makeZipBase64 } from "../fixtures/zips";
import type { TenantKey } from "../helpers/platform";
import { bearer, bundleContaining, fn, getFunctionState, newTenant, ROLE, signed, waitUntilSettled } from "../helpers/platform";

/**
 * Every bad input gets Lambda's error (status, `x-amzn-ErrorType`, a message
 * that says what to fix, `x-amzn-RequestId`) and writes nothing: after each
 * refused request the tenant's functions, versions, aliases, concurrency and
 * account usage read back exactly as before, and no code bundle was stored.
 */

type Call = (key: TenantKey, method: string, path: string, body?: unknown) => Promise<Response>;
type Method = "GET" | "POST" | "PUT" | "DELETE";

/** Distinct per run: a bundle containing it in R2 means a refused create stored code. */
const NONCE = `bad-input-${crypto.randomUUID()}`;
const KEEP_CODE = { "index.js": "exports.handler = async (event) => ({ keep: true, event });" };
const BAD_CODE = { "index.js": `exports.handler = async () => "${NONCE}";` };
const NEW_NAME = "never-created";

const concurrencyPath = (name: string) => `/2017-10-31/functions/${encodeURIComponent(name)}/concurrency`;

function createBody(extra: Record<string, unknown> = {}, omit: readonly string[] = []): Record<string, unknown> {
  const body: Record<string, unknown> = {
    FunctionName: NEW_NAME,
    Role: ROLE,
    Runtime: "nodejs22.x",
    Handler: "index.handler",
    Code: { ZipFile: makeZipBase64(BAD_CODE) },
    ...extra,
  };
  for (const field of omit) delete body[field];
  return body;
}

/** Lambda's answer to a Runtime outside its enum (AWS's recording, contract-errors): the value unquoted, then the runtimes it creates and "or be a valid ARN". */
const UNKNOWN_RUNTIME = (value: string) =>
  new RegExp(
    `^Value ${value} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: \\[nodejs20\\.x, python3\\.14, .*, nodejs24\\.x, nodejs22\\.x, .*, java8\\.al2\\] or be a valid ARN$`,
  );

/** 4097+ bytes of environment once serialised. */
const bigEnvironment = { Variables: { BIG: "x".repeat(4100) } };

interface Expected {
  status: number;
  type: string;
  /** Every pattern must match the message: the field at fault and the limit or fix. */
  message: readonly RegExp[];
}

interface Case extends Expected {
  what: string;
  body: unknown;
}

async function expectError(res: Response, expected: Expected): Promise<string> {
  const text = await res.text();
  const context = `${res.status} ${res.headers.get("x-amzn-ErrorType") ?? "-"} ${text}`;
  expect(res.status, context).toBe(expected.status);
  expect(res.headers.get("x-amzn-ErrorType"), context).toBe(expected.type);
  expect(res.headers.get("x-amzn-RequestId"), context).toMatch(/^[0-9a-f-]{36}$/);
  expect(res.headers.get("content-type") ?? "", context).toContain("application/json");
  const body = JSON.parse(text) as Record<string, unknown>;
  const message = body.message ?? body.Message;
  expect(typeof message, context).toBe("string");
  const messageText = String(message);
  for (const pattern of expected.message) expect(messageText, context).toMatch(pattern);
  return messageText;
}

async function ok(res: Response, status = 200): Promise<unknown> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  return text === "" ? null : JSON.parse(text);
}

interface FunctionItem {
  FunctionName: string;
  Version: string;
}

async function listAll(key: TenantKey): Promise<unknown[]> {
  const items: unknown[] = [];
  let marker: string | undefined;
  for (let page = 0; page < 100; page++) {
    const q = new URLSearchParams({ FunctionVersion: "ALL" });
    if (marker !== undefined) q.set("Marker", marker);
    const body = (await ok(await signed(key, "GET", `/2015-03-31/functions?${q.toString()}`))) as {
      Functions: FunctionItem[];
      NextMarker?: string;
    };
    items.push(...body.Functions);
    if (body.NextMarker === undefined) return items;
    marker = body.NextMarker;
  }
  throw new Error("ListFunctions did not finish paging");
}

/** Everything the tenant can read back: compared before and after each refused request. */
async function snapshot(key: TenantKey) {
  return {
    functions: await listAll(key),
    keep: await getFunctionState(key, "keep"),
    keepV1: await ok(await signed(key, "GET", `${fn("keep")}/configuration?Qualifier=1`)),
    keepV2: await ok(await signed(key, "GET", `${fn("keep")}/configuration?Qualifier=2`)),
    versions: await ok(await signed(key, "GET", `${fn("keep")}/versions`)),
    aliases: await ok(await signed(key, "GET", `${fn("keep")}/aliases`)),
    concurrency: await ok(await signed(key, "GET", `/2019-09-30/functions/keep/concurrency`)),
    settings: await ok(await signed(key, "GET", "/2016-08-19/account-settings")),
  };
}


describe("bad input", () => {
  let key: TenantKey;
  let before: Awaited<ReturnType<typeof snapshot>>;

  /** Sends a request that must be refused, then proves nothing was written. */
  async function refused(call: Call, method: Method, path: string, body: unknown, expected: Expected): Promise<string> {
    const message = await expectError(await call(key, method, path, body), expected);
    expect(await snapshot(key)).toEqual(before);
    expect((await signed(key, "GET", fn(NEW_NAME))).status).toBe(404);
    expect(await bundleContaining(NONCE)).toBeUndefined();
    return message;
  }

  beforeAll(async () => {
    key = await newTenant("full", "bad-input");
    // keep: version 1 and 2 published, alias live → 1, no reserved concurrency.
    const create = {
      FunctionName: "keep",
      Role: ROLE,
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      Code: { ZipFile: makeZipBase64(KEEP_CODE) },
      Publish: true,
      Description: "v1",
    };
    await ok(await signed(key, "POST", "/2015-03-31/functions", create), 201);
    await waitUntilSettled(key, "keep");
    await ok(await signed(key, "PUT", `${fn("keep")}/configuration`, { Description: "v2" }));
    await waitUntilSettled(key, "keep");
    await ok(await signed(key, "POST", `${fn("keep")}/versions`, {}), 201);
    await ok(await signed(key, "POST", `${fn("keep")}/aliases`, { Name: "live", FunctionVersion: "1" }), 201);
    before = await snapshot(key);
  });

  describe("CreateFunction", () => {
    const CASES: readonly Case[] = [
      {
        what: "malformed JSON body",
        body: `{"FunctionName": "${NEW_NAME}", "Role": `,
        status: 400,
        type: "InvalidRequestContentException",
        message: [/could not parse request body into json/i],
      },
      {
        what: "JSON that is not an object",
        body: "[1, 2, 3]",
        status: 400,
        type: "InvalidRequestContentException",
        message: [/could not parse request body into json/i],
      },
      {
        what: "unknown field Bogus",
        body: createBody({ Bogus: 1 }),
        status: 400,
        type: "InvalidRequestContentException",
        message: [/Bogus/],
      },
      {
        what: "function name of 65 characters",
        body: createBody({ FunctionName: "a".repeat(65) }),
        status: 400,
        type: "InvalidParameterValueException",
        message: [/functionName/, /less than or equal to 64/],
      },
      {
        what: "function name with bad characters",
        body: createBody({ FunctionName: "bad name!" }),
        status: 400,
        type: "ValidationException",
        message: [/bad name!/, /functionName/, /regular expression pattern/],
      },
      {
        what: "Timeout 0",
        body: createBody({ Timeout: 0 }),
        status: 400,
        type: "ValidationException",
        message: [/'timeout'/, /greater than or equal to 1/],
      },
      {
        what: "Timeout 901",
        body: createBody({ Timeout: 901 }),
        status: 400,
        type: "InvalidParameterValueException",
        message: [/timeout/, /900/],
      },
      {
        what: "MemorySize 127",
        body: createBody({ MemorySize: 127 }),
        status: 400,
        type: "ValidationException",
        message: [/'memorySize'/, /greater than or equal to 128/],
      },
      {
        what: "MemorySize 10241",
        body: createBody({ MemorySize: 10241 }),
        status: 400,
        type: "InvalidParameterValueException",
        message: [/memorySize/, /10240/],
      },
      {
        what: "missing Role",
        body: createBody({}, ["Role"]),
        status: 400,
        type: "ValidationException",
        message: [/'role'/, /Member must not be null/],
      },
      {
        what: "missing Handler",
        body: createBody({}, ["Handler"]),
        status: 400,
        type: "InvalidParameterValueException",
        // AWS's own wording (issue 12 item 4), as CloudFormation quotes it.
        message: [/^Runtime and Handler are mandatory parameters for functions created with deployment packages\.$/],
      },
      {
        what: "unsupported runtime python3.12",
        body: createBody({ Runtime: "python3.12" }),
        status: 400,
        type: "InvalidParameterValueException",
        message: [/python3\.12/, /nodejs20\.x/, /nodejs22\.x/, /nodejs24\.x/],
      },
      {
        what: "unknown runtime nodejs99",
        body: createBody({ Runtime: "nodejs99" }),
        status: 400,
        type: "InvalidParameterValueException",
        message: [UNKNOWN_RUNTIME("nodejs99")],
      },
      {
        what: "unknown runtime NodeJS22.x (the enum is case-sensitive)",
        body: createBody({ Runtime: "NodeJS22.x" }),
        status: 400,
        type: "InvalidParameterValueException",
        message: [UNKNOWN_RUNTIME("NodeJS22\\.x")],
      },
      {
        what: "wrong JSON type (Timeout: \"ten\")",
        body: createBody({ Timeout: "ten" }),
        status: 400,
        type: "InvalidRequestContentException",
        message: [/timeout/],
      },
      {
        what: "Environment over 4 KB",
        body: createBody({ Environment: bigEnvironment }),
        status: 400,
        type: "InvalidParameterValueException",
        message: [/4KB/],
      },
      {
        what: "reserved environment key AWS_REGION",
        body: createBody({ Environment: { Variables: { AWS_REGION: "eu-west-1", OK_KEY: "1" } } }),
        status: 400,
        type: "InvalidParameterValueException",
        message: [/reserved keys/, /AWS_REGION/],
      },
      {
        what: "environment key with bad characters",
        body: createBody({ Environment: { Variables: { "1bad": "x" } } }),
        status: 400,
        type: "ValidationException",
        message: [/environment\.variables/, /1bad/],
      },
      {
        what: "Role that is not an IAM role ARN",
        body: createBody({ Role: "not-a-role" }),
        status: 400,
        type: "ValidationException",
        message: [/'role'/, /regular expression pattern/],
      },
    ];

    it.each(CASES)("$what → $status $type, nothing created (SigV4)", async (c) => {
      await refused(signed, "POST", "/2015-03-31/functions", c.body, c);
    });

    it.each(CASES.slice(0, 4))("$what → $status $type, nothing created (bearer)", async (c) => {
      await refused(bearer, "POST", "/2015-03-31/functions", c.body, c);
    });

    it("duplicate create → 409 ResourceConflictException, the existing function unchanged", async () => {
      await refused(signed, "POST", "/2015-03-31/functions", createBody({ FunctionName: "keep", Description: "replaced?" }), {
        status: 409,
        type: "ResourceConflictException",
        message: [/already exist/, /keep/],
      });
    });
  });

  describe("UpdateFunctionConfiguration", () => {
    const path = `${fn("keep")}/configuration`;
    const CASES: readonly Case[] = [
      {
        what: "malformed JSON body",
        body: `{"Description": `,
        status: 400,
        type: "InvalidRequestContentException",
        message: [/could not parse request body into json/i],
      },
      {
        what: "unknown field Bogus",
        body: { Description: "x", Bogus: 1 },
        status: 400,
        type: "InvalidRequestContentException",
        message: [/Bogus/],
      },
      { what: "Timeout 0", body: { Timeout: 0 }, status: 400, type: "ValidationException", message: [/'timeout'/] },
      { what: "Timeout 901", body: { Timeout: 901 }, status: 400, type: "InvalidParameterValueException", message: [/timeout/, /900/] },
      { what: "MemorySize 127", body: { MemorySize: 127 }, status: 400, type: "ValidationException", message: [/'memorySize'/] },
      {
        what: "MemorySize 10241",
        body: { MemorySize: 10241 },
        status: 400,
        type: "InvalidParameterValueException",
        message: [/memorySize/, /10240/],
      },
      {
        what: "unsupported runtime python3.12",
        body: { Runtime: "python3.12" },
        status: 400,
        type: "InvalidParameterValueException",
        message: [/python3\.12/, /nodejs20\.x/, /nodejs22\.x/, /nodejs24\.x/],
      },
      {
        what: "unknown runtime nodejs99",
        body: { Runtime: "nodejs99" },
        status: 400,
        type: "InvalidParameterValueException",
        message: [UNKNOWN_RUNTIME("nodejs99")],
      },
      {
        what: "wrong JSON type (Timeout: \"ten\")",
        body: { Timeout: "ten" },
        status: 400,
        type: "InvalidRequestContentException",
        message: [/timeout/],
      },
      {
        what: "Environment over 4 KB",
        body: { Environment: bigEnvironment },
        status: 400,
        type: "InvalidParameterValueException",
        message: [/4KB/],
      },
      {
        what: "reserved environment key AWS_REGION",
        body: { Environment: { Variables: { AWS_REGION: "eu-west-1" } } },
        status: 400,
        type: "InvalidParameterValueException",
        message: [/AWS_REGION/],
      },
      {
        what: "a valid change with a stale RevisionId",
        body: { Description: "should not land", Timeout: 30, RevisionId: "00000000-0000-4000-8000-000000000000" },
        status: 412,
        type: "PreconditionFailedException",
        message: [/Revision Id/, /GetFunction/],
      },
    ];

    it.each(CASES)("$what → $status $type, nothing changed (bearer)", async (c) => {
      await refused(bearer, "PUT", path, c.body, c);
    });

    it("a stale RevisionId is refused even though it was the current one a moment ago", async () => {
      const current = (await ok(await signed(key, "GET", `${fn("keep")}/configuration`))) as { RevisionId: string };
      expect(current.RevisionId).toBe((before.keep as { Configuration: { RevisionId: string } }).Configuration.RevisionId);
      // A real change moves the revision on; the old one is then stale.
      const changed = (await ok(await signed(key, "PUT", path, { Description: "v3", RevisionId: current.RevisionId }))) as {
        RevisionId: string;
      };
      expect(changed.RevisionId).not.toBe(current.RevisionId);
      const settled = await waitUntilSettled(key, "keep");
      const after = await snapshot(key);
      await expectError(await signed(key, "PUT", path, { Description: "lost update", RevisionId: current.RevisionId }), {
        status: 412,
        type: "PreconditionFailedException",
        message: [/Revision Id/],
      });
      expect(await snapshot(key)).toEqual(after);
      // Put it back for the remaining tests.
      await ok(await signed(key, "PUT", path, { Description: "v2", RevisionId: settled.RevisionId }));
      await waitUntilSettled(key, "keep");
      const restored = await snapshot(key);
      before = restored;
    });
  });

  describe("aliases", () => {
    const aliases = `${fn("keep")}/aliases`;
    const CASES: ReadonlyArray<Case & { method: Method; path: string }> = [
      {
        what: "CreateAlias with a name that exists",
        method: "POST",
        path: aliases,
        body: { Name: "live", FunctionVersion: "2" },
        status: 409,
        type: "ResourceConflictException",
        message: [/Alias already exists/, /function:keep:live/],
      },
      {
        what: "CreateAlias to a version that does not exist",
        method: "POST",
        path: aliases,
        body: { Name: "future", FunctionVersion: "9" },
        status: 404,
        type: "ResourceNotFoundException",
        message: [/function:keep:9/],
      },
      {
        what: "CreateAlias with two additional weights",
        method: "POST",
        path: aliases,
        body: { Name: "canary", FunctionVersion: "1", RoutingConfig: { AdditionalVersionWeights: { "2": 0.1, "3": 0.1 } } },
        status: 400,
        type: "InvalidParameterValueException",
        message: [/AdditionalVersionWeights cannot be greater than 1/],
      },
      {
        what: "CreateAlias with a weight over 1",
        method: "POST",
        path: aliases,
        body: { Name: "canary", FunctionVersion: "1", RoutingConfig: { AdditionalVersionWeights: { "2": 1.5 } } },
        status: 400,
        type: "ValidationException",
        message: [/1\.5/, /additionalVersionWeights/, /less than or equal to 1/],
      },
      {
        what: "CreateAlias with an all-digit name",
        method: "POST",
        path: aliases,
        body: { Name: "123", FunctionVersion: "1" },
        status: 400,
        type: "ValidationException",
        message: [/'123'/, /'name'/, /regular expression pattern/],
      },
      {
        what: "UpdateAlias with two additional weights",
        method: "PUT",
        path: `${aliases}/live`,
        body: { RoutingConfig: { AdditionalVersionWeights: { "2": 0.1, "3": 0.1 } } },
        status: 400,
        type: "InvalidParameterValueException",
        message: [/AdditionalVersionWeights cannot be greater than 1/],
      },
      {
        what: "UpdateAlias with a weight over 1",
        method: "PUT",
        path: `${aliases}/live`,
        body: { RoutingConfig: { AdditionalVersionWeights: { "2": 2 } } },
        status: 400,
        type: "ValidationException",
        message: [/less than or equal to 1/],
      },
      {
        what: "UpdateAlias to a version that does not exist",
        method: "PUT",
        path: `${aliases}/live`,
        body: { FunctionVersion: "9" },
        status: 404,
        type: "ResourceNotFoundException",
        message: [/function:keep:9/],
      },
      ...(
        [
          // GetAlias and UpdateAlias word it differently (AWS's recordings; contract-versions-aliases, contract-errors).
          ["GetAlias", "GET", undefined, "Cannot find alias arn:"],
          ["UpdateAlias", "PUT", { Description: "x" }, "Alias not found:"],
        ] as const
      ).map(([op, method, body, words]) => ({
        what: `${op} of an alias that does not exist`,
        method,
        path: `${aliases}/nope`,
        body,
        status: 404,
        type: "ResourceNotFoundException",
        message: [new RegExp(`^${words} arn:aws:lambda:[a-z0-9-]+:\\d{12}:function:keep:nope$`)],
      })),
    ];

    it.each(CASES)("$what → $status $type, nothing changed", async (c) => {
      await refused(signed, c.method, c.path, c.body, c);
    });
  });

  describe("concurrency", () => {
    it("PutFunctionConcurrency leaving fewer than 100 unreserved → 400 InvalidParameterValueException", async () => {
      await refused(signed, "PUT", concurrencyPath("keep"), { ReservedConcurrentExecutions: 901 }, {
        status: 400,
        type: "InvalidParameterValueException",
        message: [/UnreservedConcurrentExecution below its minimum value of \[100\]/],
      });
    });

    it("PutFunctionConcurrency above the account's unreserved concurrency → 400 InvalidParameterValueException", async () => {
      await refused(signed, "PUT", concurrencyPath("keep"), { ReservedConcurrentExecutions: 1001 }, {
        status: 400,
        type: "InvalidParameterValueException",
        message: [/greater than account's unreserved concurrency \[1000\]/],
      });
    });

    it("PutFunctionConcurrency with a negative value → 400 ValidationException", async () => {
      await refused(signed, "PUT", concurrencyPath("keep"), { ReservedConcurrentExecutions: -1 }, {
        status: 400,
        type: "ValidationException",
        message: [/reservedConcurrentExecutions/, /greater than or equal to 0/],
      });
    });
  });

  describe("DeleteFunction, ListFunctions and qualifiers", () => {
    const CASES: ReadonlyArray<Case & { method: Method; path: string }> = [
      {
        what: "DeleteFunction with Qualifier=$LATEST",
        method: "DELETE",
        path: `${fn("keep")}?Qualifier=%24LATEST`,
        body: undefined,
        status: 400,
        type: "InvalidParameterValueException",
        message: [/\$LATEST version cannot be deleted without deleting the function/],
      },
      {
        what: "DeleteFunction of keep:$LATEST",
        method: "DELETE",
        path: fn("keep:$LATEST"),
        body: undefined,
        status: 400,
        type: "InvalidParameterValueException",
        message: [/\$LATEST version cannot be deleted/],
      },
      {
        what: "ListFunctions with MaxItems=0",
        method: "GET",
        path: "/2015-03-31/functions?MaxItems=0",
        body: undefined,
        status: 400,
        type: "ValidationException",
        message: [/maxItems/, /greater than or equal to 1/],
      },
      {
        what: "ListFunctions with a garbage Marker",
        method: "GET",
        path: "/2015-03-31/functions?Marker=not-a-marker!!",
        body: undefined,
        status: 400,
        type: "InvalidParameterValueException",
        message: [/[Mm]arker/],
      },
      {
        // A query parameter, not a body: the message must name maxItems and what it needs, not a JSON body.
        what: "ListFunctions with MaxItems=abc",
        method: "GET",
        path: "/2015-03-31/functions?MaxItems=abc",
        body: undefined,
        status: 400,
        type: "ValidationException",
        message: [/maxItems/, /^(?![\s\S]*request body)/, /^(?![\s\S]*from number value)/],
      },
      {
        what: "ListFunctions with FunctionVersion=SOME",
        method: "GET",
        path: "/2015-03-31/functions?FunctionVersion=SOME",
        body: undefined,
        status: 400,
        type: "ValidationException",
        message: [/functionVersion/, /\[ALL\]/],
      },
      ...(
        [
          ["GetFunction", "GET", fn("keep:1")],
          ["GetFunctionConfiguration", "GET", `${fn("keep:1")}/configuration`],
          ["DeleteFunction", "DELETE", fn("keep:1")],
          ["Invoke", "POST", `${fn("keep:1")}/invocations`],
        ] as const
      ).map(([op, method, base]) => ({
        what: `${op} with keep:1 and Qualifier=2`,
        method,
        path: `${base}?Qualifier=2`,
        body: method === "POST" ? {} : undefined,
        status: 400,
        type: "InvalidParameterValueException",
        message: [/^The derived qualifier from the function name does not match the specified qualifier\.$/],
      })),
      ...(
        [
          ["GetFunction", "GET", fn("keep")],
          ["GetFunctionConfiguration", "GET", `${fn("keep")}/configuration`],
          ["Invoke", "POST", `${fn("keep")}/invocations`],
        ] as const
      ).flatMap(([op, method, base]) =>
        [`${base}?Qualifier=nope`, base.replace(fn("keep"), fn("keep:nope"))].map((path) => ({
          what: `${op} of a missing alias (${path.includes("Qualifier") ? "Qualifier=nope" : "keep:nope"})`,
          method,
          path,
          body: method === "POST" ? {} : undefined,
          status: 404,
          type: "ResourceNotFoundException",
          message: [/^Function not found: arn:aws:lambda:[a-z0-9-]+:\d{12}:function:keep:nope$/],
        })),
      ),
    ];

    it.each(CASES)("$what → $status $type, nothing changed", async (c) => {
      await refused(signed, c.method, c.path, c.body, c);
    });

    // AWS-validated (LocalStack test_lambda_api snapshots test_delete_on_nonexisting_version,
    // test_non_existent_alias_deletion, test_function_name_and_qualifier_validation[*-delete_function]):
    // deleting a version or an alias that does not exist is a no-op answered 204; an alias qualifier
    // on DeleteFunction is refused; a missing function is 404 with its unqualified ARN.
    it("DeleteFunction of a version that does not exist and DeleteAlias of a missing alias are 204 no-ops", async () => {
      for (const path of [`${fn("keep")}?Qualifier=99`, fn("keep:99"), `${fn("keep")}/aliases/nope`]) {
        const res = await signed(key, "DELETE", path);
        expect(res.status).toBe(204);
        expect(await res.text()).toBe("");
        expect(await snapshot(key)).toEqual(before);
      }
    });

    it("DeleteFunction with an alias qualifier → 400 Deletion of aliases is not currently supported.", async () => {
      await refused(signed, "DELETE", `${fn("keep")}?Qualifier=live`, undefined, {
        status: 400,
        type: "InvalidParameterValueException",
        message: [/^Deletion of aliases is not currently supported\.$/],
      });
    });

    it("DeleteFunction with a qualifier of a function that does not exist → 404 naming the unqualified ARN", async () => {
      await refused(signed, "DELETE", `${fn("ghost")}?Qualifier=1`, undefined, {
        status: 404,
        type: "ResourceNotFoundException",
        message: [/^Function not found: arn:aws:lambda:us-east-1:\d{12}:function:ghost$/],
      });
    });
  });

  it("after all of it the tenant still has exactly keep ($LATEST, 1, 2) and nothing else", async () => {
    const functions = (await listAll(key)) as FunctionItem[];
    expect(functions.map((f) => `${f.FunctionName}:${f.Version}`)).toEqual(["keep:$LATEST", "keep:1", "keep:2"]);
    expect(await snapshot(key)).toEqual(before);
  });
});
