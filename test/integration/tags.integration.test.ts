import { beforeAll, describe, expect, it } from "vitest";
import type { TenantKey } from "../helpers/platform";
import { addKey, createActive, createFunctionBody, errorOf, fn, newTenant, signed } from "../helpers/platform";

/**
 * Tags (issue 12 item 4). Every expected answer comes from LocalStack's
 * AWS-validated snapshots, tests/aws/services/lambda_/test_lambda_api.snapshot.json:
 * TestLambdaTag::test_tag_lifecycle (204s, merge and overwrite, untagging a missing key is a
 * no-op, GetFunction shows `Tags` only when there are some), test_tag_exceptions (messages
 * below), test_tag_limits (50 per function, also on CreateFunction), test_tag_versions.
 */

const CODE = { "index.js": "exports.handler = async () => 'ok';" };
const tagsPath = (arn: string) => `/2017-03-31/tags/${encodeURIComponent(arn)}`;

describe("tags", () => {
  let key: TenantKey;
  let arn: (name: string, qualifier?: string) => string;

  beforeAll(async () => {
    key = await newTenant();
    arn = (name, qualifier) => `arn:aws:lambda:us-east-1:${key.accountId}:function:${name}${qualifier ? `:${qualifier}` : ""}`;
    await createActive(key, createFunctionBody("tagged", CODE, { Tags: { key_a: "value_a" } }));
  });

  const list = async (name: string) => {
    const res = await signed(key, "GET", tagsPath(arn(name)));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    return res.json();
  };

  it("Tags on CreateFunction are listed and shown by GetFunction", async () => {
    expect(await list("tagged")).toEqual({ Tags: { key_a: "value_a" } });
    expect(await signed(key, "GET", fn("tagged")).then((r) => r.json())).toMatchObject({ Tags: { key_a: "value_a" } });
  });

  it("TagResource adds and overwrites (204, empty body), UntagResource removes, missing keys are a no-op", async () => {
    const tagged = await signed(key, "POST", tagsPath(arn("tagged")), { Tags: { key_b: "value_b", key_c: "value_c" } });
    expect(tagged.status).toBe(204);
    expect(await tagged.text()).toBe("");
    expect(tagged.headers.get("x-amzn-RequestId")).toMatch(/^[0-9a-f-]{36}$/);
    expect((await signed(key, "POST", tagsPath(arn("tagged")), { Tags: { key_c: "value_x" } })).status).toBe(204);
    expect(await list("tagged")).toEqual({ Tags: { key_a: "value_a", key_b: "value_b", key_c: "value_x" } });

    const untagged = await signed(key, "DELETE", `${tagsPath(arn("tagged"))}?tagKeys=key_c&tagKeys=nope`);
    expect(untagged.status).toBe(204);
    expect(await list("tagged")).toEqual({ Tags: { key_a: "value_a", key_b: "value_b" } });

    expect((await signed(key, "DELETE", `${tagsPath(arn("tagged"))}?tagKeys=key_a&tagKeys=key_b`)).status).toBe(204);
    expect(await list("tagged")).toEqual({ Tags: {} });
    expect(await signed(key, "GET", fn("tagged")).then((r) => r.json())).not.toHaveProperty("Tags");
  });

  it("answers AWS's errors", async () => {
    expect(await errorOf(await signed(key, "POST", tagsPath(arn("tagged", "1")), { Tags: { a: "b" } }))).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: "Tags on function aliases and versions are not supported. Please specify a function ARN.",
    });
    expect(await errorOf(await signed(key, "POST", tagsPath(arn("tagged", "$LATEST")), { Tags: { a: "b" } }))).toMatchObject({
      status: 400,
      type: "InvalidParameterValueException",
    });
    for (const [method, path, body] of [
      ["POST", tagsPath(arn("doesnotexist")), { Tags: { a: "b" } }],
      ["DELETE", `${tagsPath(arn("doesnotexist"))}?tagKeys=a`, undefined],
      ["GET", tagsPath(arn("doesnotexist")), undefined],
    ] as const) {
      expect(await errorOf(await signed(key, method, path, body))).toEqual({
        status: 404,
        type: "ResourceNotFoundException",
        message: `Function not found: ${arn("doesnotexist")}`,
      });
    }
    const invalid = await errorOf(await signed(key, "GET", tagsPath("arn:aws:something")));
    expect(invalid.status).toBe(400);
    expect(invalid.type).toBe("ValidationException");
    expect(invalid.message).toMatch(/^1 validation error detected: Value 'arn:aws:something' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:\(aws\[a-zA-Z-\]\*\):lambda:/);
    expect(await errorOf(await signed(key, "DELETE", tagsPath(arn("tagged"))))).toEqual({
      status: 400,
      type: "ValidationException",
      message: "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
    });
    expect(await errorOf(await signed(key, "POST", tagsPath(arn("tagged")), { Tags: {} }))).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: "An error occurred and the request cannot be processed.",
    });
  });

  it("limits a function to 50 tags, on TagResource and on CreateFunction, writing nothing", async () => {
    const many = (n: number, prefix = "") => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}_key`, `${i}_value`]));
    const tooMany = { status: 400, type: "InvalidParameterValueException", message: "Number of tags exceeds resource tag limit." };
    expect(await errorOf(await signed(key, "POST", tagsPath(arn("tagged")), { Tags: many(51) }))).toEqual(tooMany);
    expect((await signed(key, "POST", tagsPath(arn("tagged")), { Tags: many(50) })).status).toBe(204);
    expect(await errorOf(await signed(key, "POST", tagsPath(arn("tagged")), { Tags: { extra: "x" } }))).toEqual(tooMany);
    expect(Object.keys(((await list("tagged")) as { Tags: object }).Tags)).toHaveLength(50);
    expect(await errorOf(await signed(key, "POST", "/2015-03-31/functions", createFunctionBody("too-tagged", CODE, { Tags: many(51) })))).toEqual(tooMany);
    expect((await signed(key, "GET", fn("too-tagged"))).status).toBe(404);
  });

  it("another tenant cannot list, tag or untag the function, nor learn it exists; an invoke-only key cannot write tags", async () => {
    const other = await newTenant();
    const existing = tagsPath(arn("tagged"));
    const missing = tagsPath(arn("never-was"));
    for (const path of [existing, missing]) {
      for (const [method, body, suffix] of [["GET", undefined, ""], ["POST", { Tags: { x: "y" } }, ""], ["DELETE", undefined, "?tagKeys=0_key"]] as const) {
        expect(await errorOf(await signed(other, method, `${path}${suffix}`, body))).toEqual({ status: 403, type: "AccessDeniedException", message: "" });
      }
    }
    const invokeOnly = { ...key, ...(await addKey(key.tenantId, "invoke")) };
    expect((await errorOf(await signed(invokeOnly, "POST", existing, { Tags: { x: "y" } }))).status).toBe(403);
    expect((await errorOf(await signed(invokeOnly, "DELETE", `${existing}?tagKeys=0_key`))).status).toBe(403);
    expect((await signed(invokeOnly, "GET", existing)).status).toBe(200);
    expect(Object.keys(((await list("tagged")) as { Tags: object }).Tags)).toHaveLength(50);
  });
});
