import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { deleteEventInvokeConfigs } from "../../src/data/event-config-store";
import { database } from "../../src/db/client";
import { effectiveEventConfig } from "../../src/services/event-invoke-config";
import { tenantScope } from "../../src/services/scope";
import type { TenantKey } from "../helpers/platform";
import { addKey, bearer, createFunctionBody, errorOf, fn, newTenant, signed, waitUntilSettled } from "../helpers/platform";

/**
 * Put / Update / Get / Delete / ListFunctionEventInvokeConfig(s) through the
 * real Worker. Error types and messages are Lambda's, as recorded against AWS
 * (LocalStack snapshot test_lambda_eventinvokeconfig_exceptions).
 */

type Call = (key: TenantKey, method: string, path: string, body?: unknown) => Promise<Response>;
type Method = "GET" | "POST" | "PUT" | "DELETE";

interface EventInvokeConfig {
  LastModified: number;
  FunctionArn: string;
  MaximumRetryAttempts?: number;
  MaximumEventAgeInSeconds?: number;
  DestinationConfig: { OnSuccess: { Destination?: string }; OnFailure: { Destination?: string } };
}

const CODE = { "index.js": "exports.handler = async (event) => event;" };
const eic = (name: string, qualifier?: string) =>
  `/2019-09-25/functions/${encodeURIComponent(name)}/event-invoke-config${qualifier === undefined ? "" : `?Qualifier=${encodeURIComponent(qualifier)}`}`;
const eicList = (name: string, query = "") => `/2019-09-25/functions/${encodeURIComponent(name)}/event-invoke-config/list${query}`;

async function ok<T = unknown>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  return (text === "" ? null : JSON.parse(text)) as T;
}

async function createFunction(key: TenantKey, name: string, extra: Record<string, unknown> = {}) {
  await ok(await signed(key, "POST", "/2015-03-31/functions", createFunctionBody(name, CODE, extra)), 201);
  await waitUntilSettled(key, name);
}

async function expectError(res: Response, status: number, type: string, message: string) {
  expect(res.headers.get("x-amzn-RequestId")).toMatch(/^[0-9a-f-]{36}$/);
  expect(await errorOf(res)).toEqual({ status, type, message });
}

async function listAll(key: TenantKey, name: string, maxItems?: number, call: Call = signed): Promise<EventInvokeConfig[]> {
  const items: EventInvokeConfig[] = [];
  let marker: string | undefined;
  for (let page = 0; page < 50; page++) {
    const q = new URLSearchParams();
    if (maxItems !== undefined) q.set("MaxItems", String(maxItems));
    if (marker !== undefined) q.set("Marker", marker);
    const body = await ok<{ FunctionEventInvokeConfigs: EventInvokeConfig[]; NextMarker?: string }>(
      await call(key, "GET", eicList(name, `?${q.toString()}`)),
    );
    if (maxItems !== undefined) expect(body.FunctionEventInvokeConfigs.length).toBeLessThanOrEqual(maxItems);
    items.push(...body.FunctionEventInvokeConfigs);
    if (body.NextMarker === undefined) return items;
    marker = body.NextMarker;
  }
  throw new Error("ListFunctionEventInvokeConfigs did not finish paging");
}

describe("event invoke config", () => {
  let key: TenantKey;
  let arn: (name: string, qualifier?: string) => string;

  beforeAll(async () => {
    key = await newTenant("full", "eic");
    arn = (name, qualifier) => `arn:aws:lambda:us-east-1:${key.accountId}:function:${name}${qualifier === undefined ? "" : `:${qualifier}`}`;
    // worker: $LATEST, version 1, alias live → 1; sink: a destination function.
    await createFunction(key, "worker", { Publish: true });
    await ok(await signed(key, "POST", `${fn("worker")}/aliases`, { Name: "live", FunctionVersion: "1" }), 201);
    await createFunction(key, "sink");
  });

  it("Put creates the config of $LATEST and Get returns it, LastModified as epoch seconds", async () => {
    const before = Date.now() / 1000;
    const put = await ok<EventInvokeConfig>(await signed(key, "PUT", eic("worker"), { MaximumRetryAttempts: 0 }));
    expect(put).toEqual({
      LastModified: put.LastModified,
      FunctionArn: arn("worker", "$LATEST"),
      MaximumRetryAttempts: 0,
      DestinationConfig: { OnSuccess: {}, OnFailure: {} },
    });
    expect(typeof put.LastModified).toBe("number");
    expect(put.LastModified).toBeGreaterThanOrEqual(Math.floor(before) - 1);
    expect(put.LastModified).toBeLessThan(before + 60);

    const got = await ok<EventInvokeConfig>(await signed(key, "GET", eic("worker")));
    expect(got).toEqual(put);
    expect(await ok(await signed(key, "GET", eic("worker", "$LATEST")))).toEqual(put);
    expect(await ok(await bearer(key, "GET", eic(arn("worker"))))).toEqual(put);
    expect(await ok(await signed(key, "GET", eic(`${arn("worker")}:$LATEST`)))).toEqual(put);
  });

  it("Put replaces: settings left out are removed", async () => {
    await ok(
      await signed(key, "PUT", eic("worker"), {
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 60,
        DestinationConfig: { OnSuccess: { Destination: arn("sink") }, OnFailure: { Destination: "https://hooks.example.com/failed" } },
      }),
    );
    const replaced = await ok<EventInvokeConfig>(await signed(key, "PUT", eic("worker"), { MaximumEventAgeInSeconds: 300 }));
    expect(replaced).toMatchObject({ FunctionArn: arn("worker", "$LATEST"), MaximumEventAgeInSeconds: 300, DestinationConfig: { OnSuccess: {}, OnFailure: {} } });
    expect(replaced).not.toHaveProperty("MaximumRetryAttempts");
    const got = await ok<EventInvokeConfig>(await signed(key, "GET", eic("worker")));
    expect(got).toEqual(replaced);
  });

  it("Update merges: given settings change, the others stay", async () => {
    await ok(
      await signed(key, "PUT", eic("worker"), {
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 60,
        DestinationConfig: { OnFailure: { Destination: "https://hooks.example.com/failed" } },
      }),
    );
    const first = await ok<EventInvokeConfig>(await signed(key, "GET", eic("worker")));

    const updated = await ok<EventInvokeConfig>(await signed(key, "POST", eic("worker"), { MaximumRetryAttempts: 0 }));
    expect(updated).toEqual({
      LastModified: updated.LastModified,
      FunctionArn: arn("worker", "$LATEST"),
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
      DestinationConfig: { OnSuccess: {}, OnFailure: { Destination: "https://hooks.example.com/failed" } },
    });
    expect(updated.LastModified).toBeGreaterThanOrEqual(first.LastModified);

    // A destination member given replaces that member only; `{}` clears it.
    const withSuccess = await ok<EventInvokeConfig>(
      await signed(key, "POST", eic("worker"), { DestinationConfig: { OnSuccess: { Destination: `${arn("sink")}:$LATEST` } } }),
    );
    expect(withSuccess.DestinationConfig).toEqual({
      OnSuccess: { Destination: `${arn("sink")}:$LATEST` },
      OnFailure: { Destination: "https://hooks.example.com/failed" },
    });
    const cleared = await ok<EventInvokeConfig>(await signed(key, "POST", eic("worker"), { DestinationConfig: { OnFailure: {} } }));
    expect(cleared.DestinationConfig).toEqual({ OnSuccess: { Destination: `${arn("sink")}:$LATEST` }, OnFailure: {} });
    expect(cleared).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
    expect(await ok(await signed(key, "GET", eic("worker")))).toEqual(cleared);
  });

  it("accepts DestinationConfig with empty members as a setting", async () => {
    const put = await ok<EventInvokeConfig>(await signed(key, "PUT", eic("worker"), { DestinationConfig: { OnSuccess: {} } }));
    expect(put).toEqual({ LastModified: put.LastModified, FunctionArn: arn("worker", "$LATEST"), DestinationConfig: { OnSuccess: {}, OnFailure: {} } });
  });

  it("keeps one config per qualifier: version, alias, by Qualifier or by the name", async () => {
    const version = await ok<EventInvokeConfig>(await signed(key, "PUT", eic("worker", "1"), { MaximumEventAgeInSeconds: 120 }));
    expect(version.FunctionArn).toBe(arn("worker", "1"));
    const alias = await ok<EventInvokeConfig>(await signed(key, "PUT", eic("worker:live"), { MaximumRetryAttempts: 1 }));
    expect(alias.FunctionArn).toBe(arn("worker", "live"));

    expect(await ok(await signed(key, "GET", eic("worker:1")))).toEqual(version);
    expect(await ok(await signed(key, "GET", eic(arn("worker", "1"))))).toEqual(version);
    expect(await ok(await signed(key, "GET", eic("worker", "live")))).toEqual(alias);
    expect(await ok(await signed(key, "GET", eic(arn("worker", "live"), "live")))).toEqual(alias);
    // $LATEST is untouched by the others.
    const latest = await ok<EventInvokeConfig>(await signed(key, "GET", eic("worker")));
    expect(latest.FunctionArn).toBe(arn("worker", "$LATEST"));
    expect(latest).not.toHaveProperty("MaximumEventAgeInSeconds");
  });

  it("effectiveEventConfig gives exactly that qualifier's settings, with Lambda's defaults", async () => {
    await ok(
      await signed(key, "PUT", eic("worker"), {
        MaximumRetryAttempts: 1,
        DestinationConfig: { OnSuccess: { Destination: arn("sink") }, OnFailure: { Destination: "https://hooks.example.com/f" } },
      }),
    );
    await ok(await signed(key, "PUT", eic("worker", "1"), { MaximumEventAgeInSeconds: 120 }));
    const scope = tenantScope(env, { tenantId: key.tenantId, accountId: key.accountId, accessKeyId: key.accessKeyId, scope: "full", concurrencyLimit: 1000, apiRequestRate: 15, cell: 0 });

    expect(await effectiveEventConfig(scope, "worker", undefined)).toEqual({
      maximumRetryAttempts: 1,
      maximumEventAgeInSeconds: 21600,
      onSuccess: arn("sink"),
      onFailure: "https://hooks.example.com/f",
    });
    expect(await effectiveEventConfig(scope, "worker", "$LATEST")).toEqual(await effectiveEventConfig(scope, "worker", undefined));
    expect(await effectiveEventConfig(scope, "worker", "1")).toEqual({ maximumRetryAttempts: 2, maximumEventAgeInSeconds: 120 });
    expect(await effectiveEventConfig(scope, "sink", undefined)).toEqual({ maximumRetryAttempts: 2, maximumEventAgeInSeconds: 21600 });
    expect(await effectiveEventConfig(scope, "no-such-function", "7")).toEqual({ maximumRetryAttempts: 2, maximumEventAgeInSeconds: 21600 });
  });

  describe("paging", () => {
    const NAME = "paged";
    const QUALIFIERS = ["$LATEST", "1", "2", "3", "alpha", "beta", "gamma"];

    beforeAll(async () => {
      await createFunction(key, NAME, { Publish: true });
      for (let i = 0; i < 2; i++) {
        await ok(await signed(key, "PUT", `${fn(NAME)}/configuration`, { Description: `v${i + 2}` }));
        await waitUntilSettled(key, NAME);
        await ok(await signed(key, "POST", `${fn(NAME)}/versions`, {}), 201);
      }
      for (const alias of ["alpha", "beta", "gamma"]) {
        await ok(await signed(key, "POST", `${fn(NAME)}/aliases`, { Name: alias, FunctionVersion: "1" }), 201);
      }
      for (const [i, q] of QUALIFIERS.entries()) {
        await ok(await signed(key, "PUT", eic(NAME, q), { MaximumRetryAttempts: i % 3 }));
      }
    });

    it("lists every config of the function", async () => {
      const all = await listAll(key, NAME);
      expect(all.map((c) => c.FunctionArn)).toEqual(QUALIFIERS.map((q) => arn(NAME, q)));
      expect(all.every((c) => typeof c.LastModified === "number")).toBe(true);
      expect(all[1]).toEqual(await ok(await signed(key, "GET", eic(NAME, "1"))));
    });

    it.each([1, 2, 3, 50])("pages with MaxItems=%i over SigV4 and bearer", async (maxItems) => {
      expect((await listAll(key, NAME, maxItems)).map((c) => c.FunctionArn)).toEqual(QUALIFIERS.map((q) => arn(NAME, q)));
      expect((await listAll(key, NAME, maxItems, bearer)).map((c) => c.FunctionArn)).toEqual(QUALIFIERS.map((q) => arn(NAME, q)));
    });

    it("leaves NextMarker out on the last page", async () => {
      const body = await ok<Record<string, unknown>>(await signed(key, "GET", eicList(NAME, "?MaxItems=7")));
      expect(body).not.toHaveProperty("NextMarker");
      const partial = await ok<Record<string, unknown>>(await signed(key, "GET", eicList(NAME, "?MaxItems=6")));
      expect(typeof partial.NextMarker).toBe("string");
    });

    it("lists an empty array for a function without configs, by name or ARN", async () => {
      expect(await ok(await signed(key, "GET", eicList("sink")))).toEqual({ FunctionEventInvokeConfigs: [] });
      expect(await ok(await signed(key, "GET", eicList(arn("sink"))))).toEqual({ FunctionEventInvokeConfigs: [] });
    });

    it.each([
      ["0", "Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"],
      ["51", "Value '51' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 50"],
      ["x", "Value 'x' at 'maxItems' failed to satisfy constraint: Member must be a whole number"],
    ])("refuses MaxItems=%s", async (value, message) => {
      await expectError(await signed(key, "GET", eicList(NAME, `?MaxItems=${value}`)), 400, "ValidationException", `1 validation error detected: ${message}`);
    });

    it("refuses a marker that is not one of ours", async () => {
      await expectError(
        await signed(key, "GET", eicList(NAME, "?Marker=garbage")),
        400,
        "InvalidParameterValueException",
        "Invalid marker: garbage. Pass the NextMarker of a previous response unchanged.",
      );
    });
  });

  describe("Delete", () => {
    it("deletes one qualifier's config with 204, then Get and Delete are 404", async () => {
      await createFunction(key, "to-clear", { Publish: true });
      await ok(await signed(key, "PUT", eic("to-clear"), { MaximumRetryAttempts: 1 }));
      await ok(await signed(key, "PUT", eic("to-clear", "1"), { MaximumRetryAttempts: 1 }));

      const res = await signed(key, "DELETE", eic("to-clear", "$LATEST"));
      expect(res.status).toBe(204);
      expect(await res.text()).toBe("");
      const missing = `The function ${arn("to-clear", "$LATEST")} doesn't have an EventInvokeConfig`;
      await expectError(await signed(key, "GET", eic("to-clear")), 404, "ResourceNotFoundException", missing);
      await expectError(await signed(key, "DELETE", eic("to-clear")), 404, "ResourceNotFoundException", missing);
      expect((await listAll(key, "to-clear")).map((c) => c.FunctionArn)).toEqual([arn("to-clear", "1")]);

      expect((await signed(key, "DELETE", eic("to-clear:1"))).status).toBe(204);
      expect(await listAll(key, "to-clear")).toEqual([]);
    });

    it("deleteEventInvokeConfigs (DeleteFunction's hook) removes every config of the function, or one qualifier's", async () => {
      await createFunction(key, "doomed", { Publish: true });
      await ok(await signed(key, "PUT", eic("doomed"), { MaximumRetryAttempts: 1 }));
      await ok(await signed(key, "PUT", eic("doomed", "1"), { MaximumRetryAttempts: 1 }));
      await ok(await signed(key, "PUT", eic("worker", "1"), { MaximumRetryAttempts: 0 }));

      await deleteEventInvokeConfigs(database(env.DB), key.tenantId, "doomed", "1");
      expect((await listAll(key, "doomed")).map((c) => c.FunctionArn)).toEqual([arn("doomed", "$LATEST")]);
      await deleteEventInvokeConfigs(database(env.DB), key.tenantId, "doomed");
      expect(await listAll(key, "doomed")).toEqual([]);
      // Other functions keep theirs.
      expect(await ok(await signed(key, "GET", eic("worker", "1")))).toMatchObject({ MaximumRetryAttempts: 0 });
    });
  });

  describe("errors", () => {
    beforeAll(async () => {
      // Update (POST) needs an existing config to get as far as the destination checks.
      await ok(await signed(key, "PUT", eic("worker"), { MaximumRetryAttempts: 1 }));
    });

    it("Get/Delete of a config that does not exist: 404 naming the qualified ARN ($LATEST when unqualified)", async () => {
      await createFunction(key, "bare", { Publish: true });
      const cases: Array<[string, string]> = [
        [eic("bare"), arn("bare", "$LATEST")],
        [eic("bare", "1"), arn("bare", "1")],
        [eic("bare", "doesnotexist"), arn("bare", "doesnotexist")],
        [eic("doesnotexist"), arn("doesnotexist", "$LATEST")],
        [eic("doesnotexist:9"), arn("doesnotexist", "9")],
      ];
      for (const [path, qualifiedArn] of cases) {
        for (const method of ["GET", "DELETE"] as const) {
          await expectError(await signed(key, method, path), 404, "ResourceNotFoundException", `The function ${qualifiedArn} doesn't have an EventInvokeConfig`);
        }
      }
    });

    it("Update of a config that does not exist (function and qualifier do): 404 doesn't have an EventInvokeConfig", async () => {
      await expectError(
        await signed(key, "POST", eic("bare"), { MaximumRetryAttempts: 0 }),
        404,
        "ResourceNotFoundException",
        `The function ${arn("bare", "$LATEST")} doesn't have an EventInvokeConfig`,
      );
      await expectError(
        await signed(key, "POST", eic(arn("bare", "1")), { MaximumRetryAttempts: 0 }),
        404,
        "ResourceNotFoundException",
        `The function ${arn("bare", "1")} doesn't have an EventInvokeConfig`,
      );
    });

    it.each(["PUT", "POST"] as const)("%s to a function, version or alias that does not exist: 404 The function doesn't exist.", async (method) => {
      for (const path of [eic("doesnotexist"), eic(arn("doesnotexist")), eic("worker", "9"), eic("worker", "nosuchalias"), eic("worker:liveX")]) {
        await expectError(await signed(key, method, path, { MaximumRetryAttempts: 1 }), 404, "ResourceNotFoundException", "The function doesn't exist.");
      }
    });

    it("List of a function that does not exist: 404 The function doesn't exist.", async () => {
      await expectError(await signed(key, "GET", eicList("doesnotexist")), 404, "ResourceNotFoundException", "The function doesn't exist.");
    });

    it.each(["PUT", "POST"] as const)("%s without any setting: 400, checked before the function exists", async (method) => {
      for (const [path, body] of [
        [eic("worker"), {}],
        [eic("worker"), undefined],
        [eic("worker"), { MaximumRetryAttempts: null }],
        [eic("doesnotexist"), {}],
      ] as const) {
        await expectError(
          await signed(key, method, path, body),
          400,
          "InvalidParameterValueException",
          "You must specify at least one of error handling or destination setting.",
        );
      }
    });

    it.each(["PUT", "POST"] as const)("%s with the function itself as destination: 400", async (method) => {
      await ok(await signed(key, "PUT", eic("worker"), { MaximumRetryAttempts: 1 }));
      for (const self of [arn("worker"), arn("worker", "1"), arn("worker", "$LATEST")]) {
        await expectError(
          await signed(key, method, eic("worker"), { DestinationConfig: { OnSuccess: { Destination: self } } }),
          400,
          "InvalidParameterValueException",
          "You can't specify the function as a destination for itself.",
        );
      }
    });

    it.each(["PUT", "POST"] as const)("%s with an invalid destination: 400 The destination ARN <x> is invalid.", async (method) => {
      const other = await newTenant("full", "eic-other");
      await createFunction(other, "sink");
      for (const bad of [
        arn("doesnotexist"),
        `arn:aws:lambda:us-east-1:${other.accountId}:function:sink`,
        `arn:aws:lambda:eu-west-1:${key.accountId}:function:sink`,
        `arn:aws:lambda:us-east-1:${key.accountId}:layer:x:1`,
        "https://",
        "ftp://example.com/x",
      ]) {
        // ftp:// is not even ARN-shaped: the model's pattern refuses it first.
        const expected = bad.startsWith("ftp:")
          ? {
              type: "ValidationException",
              message: `1 validation error detected: Value '${bad}' at 'destinationConfig.onFailure.destination' failed to satisfy constraint: Member must satisfy regular expression pattern: ^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)`,
            }
          : { type: "InvalidParameterValueException", message: `The destination ARN ${bad} is invalid.` };
        await expectError(
          await signed(key, method, eic("worker"), { DestinationConfig: { OnFailure: { Destination: bad } } }),
          400,
          expected.type,
          expected.message,
        );
      }
    });

    it.each(["PUT", "POST"] as const)("%s with SNS / EventBridge / S3 destinations: 400 saying what cellfn delivers to", async (method) => {
      for (const [raw, what] of [
        [`arn:aws:sns:us-east-1:${key.accountId}:topic`, "an Amazon SNS topic"],
        [`arn:aws:events:us-east-1:${key.accountId}:event-bus/default`, "an Amazon EventBridge event bus"],
        ["arn:aws:s3:::bucket", "an Amazon S3 bucket"],
      ]) {
        await expectError(
          await signed(key, method, eic("worker"), { DestinationConfig: { OnFailure: { Destination: raw } } }),
          400,
          "InvalidParameterValueException",
          `The destination ${raw} is ${what}, which cellfn does not deliver to: cellfn delivers to Lambda function ARNs, SQS queue ARNs and http(s) URLs only.`,
        );
      }
    });

    it("an ARN of a service Lambda has no destinations for: 400 the provided destination config is invalid", async () => {
      const iam = `arn:aws:iam:us-east-1:${key.accountId}:function:worker`;
      await expectError(
        await signed(key, "PUT", eic("worker"), { DestinationConfig: { OnSuccess: { Destination: iam } } }),
        400,
        "InvalidParameterValueException",
        `The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=${iam}), onFailure=null) is invalid.`,
      );
    });

    it("accepts http:// and https:// URLs, private ones included (delivery enforces egress)", async () => {
      const put = await ok<EventInvokeConfig>(
        await signed(key, "PUT", eic("worker"), {
          DestinationConfig: { OnSuccess: { Destination: "http://10.1.2.3:8080/ok" }, OnFailure: { Destination: "https://hooks.example.com/f?x=1" } },
        }),
      );
      expect(put.DestinationConfig).toEqual({
        OnSuccess: { Destination: "http://10.1.2.3:8080/ok" },
        OnFailure: { Destination: "https://hooks.example.com/f?x=1" },
      });
    });

    it.each([
      [{ MaximumRetryAttempts: 3 }, "Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2"],
      [{ MaximumRetryAttempts: -1 }, "Value '-1' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value greater than or equal to 0"],
      [{ MaximumEventAgeInSeconds: 59 }, "Value '59' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60"],
      [
        { MaximumEventAgeInSeconds: 21601 },
        "Value '21601' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value less than or equal to 21600",
      ],
      [
        { DestinationConfig: { OnSuccess: { Destination: `https://h.example/${"a".repeat(400)}` } } },
        `Value 'https://h.example/${"a".repeat(400)}' at 'destinationConfig.onSuccess.destination' failed to satisfy constraint: Member must have length less than or equal to 350`,
      ],
    ])("range and length errors are ValidationExceptions: %j", async (body, message) => {
      for (const method of ["PUT", "POST"] as const) {
        await expectError(await signed(key, method, eic("worker"), body), 400, "ValidationException", `1 validation error detected: ${message}`);
      }
    });

    it.each([
      [{ MaximumRetryAttempts: 1, Qualifier: "1" }, 'Unrecognized field "Qualifier", not marked as ignorable'],
      [{ DestinationConfig: { OnSuccess: { Destination: "https://x.example", Type: "url" } } }, 'Unrecognized field "Type", not marked as ignorable'],
      [{ MaximumRetryAttempts: "1" }, "Cannot deserialize value of type `number` from string value at 'maximumRetryAttempts'"],
      ["{not json", "Could not parse payload into json: "],
    ])("unknown fields and bad JSON are InvalidRequestContentException: %j", async (body, detail) => {
      for (const method of ["PUT", "POST"] as const) {
        const res = await signed(key, method, eic("worker"), body);
        const error = await errorOf(res);
        expect(error.status).toBe(400);
        expect(error.type).toBe("InvalidRequestContentException");
        expect(error.message.startsWith(`Could not parse request body into json: ${detail}`)).toBe(true);
      }
    });

    it("a Qualifier that disagrees with the name's, or is malformed, is refused like elsewhere", async () => {
      await expectError(
        await signed(key, "PUT", eic("worker:1", "live"), { MaximumRetryAttempts: 1 }),
        400,
        "InvalidParameterValueException",
        "The derived qualifier from the function name does not match the specified qualifier.",
      );
      const bad = await errorOf(await signed(key, "GET", eic("worker", "a.b")));
      expect(bad.status).toBe(400);
      expect(bad.type).toBe("ValidationException");
    });
  });

  describe("invoke-only keys", () => {
    let invoke: TenantKey;

    beforeAll(async () => {
      invoke = { ...key, ...(await addKey(key.tenantId, "invoke")) };
      await ok(await signed(key, "PUT", eic("worker", "live"), { MaximumRetryAttempts: 1 }));
    });

    it.each([
      ["PUT", eic("worker", "live"), { MaximumRetryAttempts: 0 }],
      ["POST", eic("worker", "live"), { MaximumRetryAttempts: 0 }],
      ["DELETE", eic("worker", "live"), undefined],
    ] as const)("%s is refused with AccessDeniedException and changes nothing", async (method, path, body) => {
      const before = await ok(await signed(key, "GET", eic("worker", "live")));
      for (const call of [signed, bearer]) {
        const error = await errorOf(await call(invoke, method, path, body));
        expect(error.status).toBe(403);
        expect(error.type).toBe("AccessDeniedException");
        expect(error.message).toContain("invoke");
      }
      expect(await ok(await signed(key, "GET", eic("worker", "live")))).toEqual(before);
    });

    it("may read: Get and List", async () => {
      expect(await ok(await signed(invoke, "GET", eic("worker", "live")))).toMatchObject({ FunctionArn: arn("worker", "live") });
      expect((await listAll(invoke, "worker")).length).toBeGreaterThan(0);
    });
  });
});

describe("event invoke config tenant isolation", () => {
  /** B owns `shared-name` (version 1, alias live, configs on all three); A has no such function. */
  const SHARED = "shared-name";
  const ABSENT = "absent-name";
  let a: TenantKey;
  let b: TenantKey;
  let bArn: (name: string) => string;
  let bConfigs: EventInvokeConfig[];

  interface Route {
    op: string;
    method: Method;
    path: (name: string) => string;
    body?: unknown;
  }

  const ROUTES: readonly Route[] = [
    { op: "PutFunctionEventInvokeConfig", method: "PUT", path: (n) => eic(n), body: { MaximumRetryAttempts: 0 } },
    { op: "PutFunctionEventInvokeConfig Qualifier=live", method: "PUT", path: (n) => eic(n, "live"), body: { MaximumRetryAttempts: 0 } },
    { op: "UpdateFunctionEventInvokeConfig", method: "POST", path: (n) => eic(n), body: { MaximumEventAgeInSeconds: 60 } },
    { op: "UpdateFunctionEventInvokeConfig Qualifier=1", method: "POST", path: (n) => eic(n, "1"), body: { MaximumEventAgeInSeconds: 60 } },
    { op: "GetFunctionEventInvokeConfig", method: "GET", path: (n) => eic(n) },
    { op: "GetFunctionEventInvokeConfig Qualifier=live", method: "GET", path: (n) => eic(n, "live") },
    { op: "DeleteFunctionEventInvokeConfig", method: "DELETE", path: (n) => eic(n) },
    { op: "DeleteFunctionEventInvokeConfig Qualifier=1", method: "DELETE", path: (n) => eic(n, "1") },
    { op: "ListFunctionEventInvokeConfigs", method: "GET", path: (n) => eicList(n) },
  ];

  /** What a client can observe of an error, with the name replaced by a placeholder. */
  async function observe(res: Response, name: string) {
    return {
      status: res.status,
      type: res.headers.get("x-amzn-ErrorType"),
      headerNames: [...res.headers.keys()].sort(),
      body: (await res.text()).replaceAll(name, "<name>"),
    };
  }

  beforeAll(async () => {
    [a, b] = await Promise.all([newTenant("full", "eic-iso-a"), newTenant("full", "eic-iso-b")]);
    bArn = (name) => `arn:aws:lambda:us-east-1:${b.accountId}:function:${name}`;
    await createFunction(b, SHARED, { Publish: true });
    await ok(await signed(b, "POST", `${fn(SHARED)}/aliases`, { Name: "live", FunctionVersion: "1" }), 201);
    for (const q of ["$LATEST", "1", "live"]) {
      await ok(await signed(b, "PUT", eic(SHARED, q), { MaximumRetryAttempts: 1, DestinationConfig: { OnFailure: { Destination: "https://b.example/f" } } }));
    }
    await createFunction(a, "a-own");
    await ok(await signed(a, "PUT", eic("a-own"), { MaximumRetryAttempts: 0 }));
    bConfigs = await listAll(b, SHARED);
    expect(bConfigs).toHaveLength(3);
  });

  describe.each([
    ["SigV4", signed],
    ["bearer", bearer],
  ] as const)("with A's key over %s", (_auth, call) => {
    it.each(ROUTES)("$op by bare name: 404, identical to a name that exists nowhere", async (route) => {
      const res = await call(a, route.method, route.path(SHARED), route.body);
      const absent = await call(a, route.method, route.path(ABSENT), route.body);
      const seen = await observe(res.clone(), SHARED);
      expect(seen).toEqual(await observe(absent, ABSENT));
      const error = await errorOf(res);
      expect(error.status).toBe(404);
      expect(error.type).toBe("ResourceNotFoundException");
      expect(seen.body).not.toContain(b.accountId);
    });

    it.each(ROUTES)("$op by B's ARN: 403 AccessDeniedException, identical whether or not B has the function", async (route) => {
      const res = await call(a, route.method, route.path(bArn(SHARED)), route.body);
      const absent = await call(a, route.method, route.path(bArn(ABSENT)), route.body);
      const seen = await observe(res.clone(), SHARED);
      expect(seen).toEqual(await observe(absent, ABSENT));
      const error = await errorOf(res);
      expect(error.status).toBe(403);
      expect(error.type).toBe("AccessDeniedException");
      expect(seen.body).not.toContain(b.accountId);
    });
  });

  it("A cannot name B's function as a destination", async () => {
    await expectError(
      await signed(a, "PUT", eic("a-own"), { DestinationConfig: { OnSuccess: { Destination: bArn(SHARED) } } }),
      400,
      "InvalidParameterValueException",
      `The destination ARN ${bArn(SHARED)} is invalid.`,
    );
  });

  it("A's configs are never listed to B and B's never to A", async () => {
    expect((await listAll(a, "a-own")).map((c) => c.FunctionArn)).toEqual([`arn:aws:lambda:us-east-1:${a.accountId}:function:a-own:$LATEST`]);
    await expectError(await signed(b, "GET", eicList("a-own")), 404, "ResourceNotFoundException", "The function doesn't exist.");
    await expectError(
      await signed(b, "GET", eic("a-own")),
      404,
      "ResourceNotFoundException",
      `The function arn:aws:lambda:us-east-1:${b.accountId}:function:a-own:$LATEST doesn't have an EventInvokeConfig`,
    );
  });

  it("B's configs are untouched after every attempt (checked with B's key)", async () => {
    expect(await listAll(b, SHARED)).toEqual(bConfigs);
  });
});
