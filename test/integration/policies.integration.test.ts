import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { parseFunctionName } from "../../src/lambda/function-name";
import { crossTenantInvokeGrant } from "../../src/services/policies";
import type { TenantKey } from "../helpers/platform";
import { createActive, createFunctionBody, errorOf, fn, newTenant, signed } from "../helpers/platform";

/**
 * AddPermission / RemovePermission / GetPolicy (issue 12 item 5). Expected answers from
 * LocalStack's AWS-validated snapshots (tests/aws/services/lambda_/test_lambda_api.snapshot.json,
 * TestLambdaPermissions::test_add_lambda_permission_aws, test_remove_multi_permissions,
 * test_lambda_permission_fn_versioning, test_permission_exceptions, test_lambda_permission_revisions):
 * 201 `{"Statement": "<json>"}`, GetPolicy `{"Policy": "<json>", "RevisionId"}` with the
 * version's RevisionId, and the messages checked below.
 */

const CODE = { "index.js": "exports.handler = async () => 'ok';" };
const policyPath = (name: string, rest = "") => `${fn(name)}/policy${rest}`;

describe("resource-based policies", () => {
  let key: TenantKey;
  let arn: (name: string, qualifier?: string) => string;

  beforeAll(async () => {
    key = await newTenant();
    arn = (name, qualifier) => `arn:aws:lambda:us-east-1:${key.accountId}:function:${name}${qualifier ? `:${qualifier}` : ""}`;
    await createActive(key, createFunctionBody("guarded", CODE));
  });

  it("AddPermission answers AWS's statement; GetPolicy the policy with the function's RevisionId", async () => {
    const before = await signed(key, "GET", `${fn("guarded")}/configuration`).then((r) => r.json<{ RevisionId: string }>());
    const res = await signed(key, "POST", policyPath("guarded"), {
      StatementId: "s3",
      Action: "lambda:InvokeFunction",
      Principal: "s3.amazonaws.com",
      SourceArn: "arn:aws:s3:::my-bucket",
    });
    expect(res.status).toBe(201);
    const body = await res.json<{ Statement: string }>();
    expect(Object.keys(body)).toEqual(["Statement"]);
    const statement = {
      Sid: "s3",
      Effect: "Allow",
      Principal: { Service: "s3.amazonaws.com" },
      Action: "lambda:InvokeFunction",
      Resource: arn("guarded"),
      Condition: { ArnLike: { "AWS:SourceArn": "arn:aws:s3:::my-bucket" } },
    };
    expect(JSON.parse(body.Statement)).toEqual(statement);

    const policy = await signed(key, "GET", policyPath("guarded")).then((r) => r.json<{ Policy: string; RevisionId: string }>());
    expect(JSON.parse(policy.Policy)).toEqual({ Version: "2012-10-17", Id: "default", Statement: [statement] });
    const after = await signed(key, "GET", `${fn("guarded")}/configuration`).then((r) => r.json<{ RevisionId: string }>());
    expect(policy.RevisionId).toBe(after.RevisionId);
    expect(after.RevisionId).not.toBe(before.RevisionId);
  });

  it("grants another account as AWS writes it, keeps statements in order, removes one by id", async () => {
    const other = await newTenant();
    expect((await signed(key, "POST", policyPath("guarded"), { StatementId: "partner", Action: "lambda:InvokeFunction", Principal: other.accountId })).status).toBe(201);
    const policy = await signed(key, "GET", policyPath("guarded")).then((r) => r.json<{ Policy: string; RevisionId: string }>());
    const statements = (JSON.parse(policy.Policy) as { Statement: { Sid: string; Principal: unknown }[] }).Statement;
    expect(statements.map((s) => s.Sid)).toEqual(["s3", "partner"]);
    expect(statements[1]?.Principal).toEqual({ AWS: `arn:aws:iam::${other.accountId}:root` });

    // A stale RevisionId is refused (the GetFunction/GetAlias wording, as AWS answers RemovePermission).
    const stale = await errorOf(await signed(key, "DELETE", policyPath("guarded", "/partner?RevisionId=stale")));
    expect(stale).toMatchObject({ status: 412, type: "PreconditionFailedException" });
    expect((await signed(key, "DELETE", policyPath("guarded", `/partner?RevisionId=${policy.RevisionId}`))).status).toBe(204);
    const left = await signed(key, "GET", policyPath("guarded")).then((r) => r.json<{ Policy: string }>());
    expect((JSON.parse(left.Policy) as { Statement: { Sid: string }[] }).Statement.map((s) => s.Sid)).toEqual(["s3"]);
  });

  it("answers AWS's errors and writes nothing when refusing", async () => {
    const grant = { StatementId: "x", Action: "lambda:InvokeFunction", Principal: "123456789012" };
    const cases: [string, string, unknown, { status: number; type: string; message: string }][] = [
      ["POST", policyPath("guarded"), { ...grant, StatementId: "s3" }, { status: 409, type: "ResourceConflictException", message: "The statement id (s3) provided already exists. Please provide a new statement id, or remove the existing statement." }],
      ["POST", `${policyPath("guarded")}?Qualifier=$LATEST`, grant, { status: 400, type: "InvalidParameterValueException", message: "We currently do not support adding policies for $LATEST." }],
      ["POST", policyPath("guarded"), { ...grant, Principal: "not a principal" }, { status: 400, type: "ValidationException", message: "1 validation error detected: Value 'not a principal' at 'principal' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+" }],
      ["POST", policyPath("guarded"), { ...grant, Principal: "invalid" }, { status: 400, type: "InvalidParameterValueException", message: "The provided principal was invalid. Please check the principal and try again." }],
      ["POST", policyPath("guarded"), { ...grant, StatementId: "example.com" }, { status: 400, type: "ValidationException", message: "1 validation error detected: Value 'example.com' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)" }],
      ["POST", policyPath("doesnotexist"), grant, { status: 404, type: "ResourceNotFoundException", message: `Function not found: ${arn("doesnotexist")}` }],
      ["POST", `${policyPath("guarded")}?Qualifier=42`, grant, { status: 404, type: "ResourceNotFoundException", message: `Function not found: ${arn("guarded", "42")}` }],
      ["POST", `${policyPath("guarded")}?Qualifier=alias-doesnotexist`, grant, { status: 404, type: "ResourceNotFoundException", message: `Cannot find alias arn: ${arn("guarded", "alias-doesnotexist")}` }],
      ["POST", `${policyPath("guarded:1")}?Qualifier=2`, grant, { status: 400, type: "InvalidParameterValueException", message: "The derived qualifier from the function name does not match the specified qualifier." }],
      ["GET", policyPath("doesnotexist"), undefined, { status: 404, type: "ResourceNotFoundException", message: "The resource you requested does not exist." }],
      ["GET", `${policyPath("guarded")}?Qualifier=42`, undefined, { status: 404, type: "ResourceNotFoundException", message: "The resource you requested does not exist." }],
      ["DELETE", policyPath("doesnotexist", "/s3"), undefined, { status: 404, type: "ResourceNotFoundException", message: `No policy found for: ${arn("doesnotexist")}` }],
      ["DELETE", policyPath("guarded", "/non-existent"), undefined, { status: 404, type: "ResourceNotFoundException", message: "Statement non-existent is not found in resource policy." }],
    ];
    const before = await signed(key, "GET", policyPath("guarded")).then((r) => r.json());
    for (const [method, path, body, expected] of cases) {
      expect({ path, ...(await errorOf(await signed(key, method, path, body))) }).toEqual({ path, ...expected });
    }
    expect(await signed(key, "GET", policyPath("guarded")).then((r) => r.json())).toEqual(before);
  });

  it("a function with no policy: GetPolicy 404, RemovePermission 'No policy is associated'", async () => {
    await createActive(key, createFunctionBody("open", CODE));
    expect(await errorOf(await signed(key, "GET", policyPath("open")))).toEqual({ status: 404, type: "ResourceNotFoundException", message: "The resource you requested does not exist." });
    expect(await errorOf(await signed(key, "DELETE", policyPath("open", "/x")))).toEqual({ status: 404, type: "ResourceNotFoundException", message: "No policy is associated with the given resource." });
  });

  it("policies per version: a version's policy names the qualified ARN; deleting the function drops them", async () => {
    expect((await signed(key, "POST", `${fn("guarded")}/versions`, {})).status).toBe(201);
    expect((await signed(key, "POST", `${policyPath("guarded")}?Qualifier=1`, { StatementId: "v1", Action: "lambda:InvokeFunction", Principal: "*" })).status).toBe(201);
    const v1 = await signed(key, "GET", `${policyPath("guarded")}?Qualifier=1`).then((r) => r.json<{ Policy: string }>());
    expect(JSON.parse(v1.Policy)).toMatchObject({ Statement: [{ Sid: "v1", Principal: "*", Resource: arn("guarded", "1") }] });
    expect((await signed(key, "DELETE", fn("guarded"))).status).toBe(204);
    await createActive(key, createFunctionBody("guarded", CODE));
    expect((await errorOf(await signed(key, "GET", policyPath("guarded")))).status).toBe(404);
    expect((await errorOf(await signed(key, "GET", `${policyPath("guarded")}?Qualifier=1`))).status).toBe(404);
  });

  it("another tenant can neither read nor change the policy, nor learn the function exists; an invoke-only key cannot change it", async () => {
    expect((await signed(key, "POST", policyPath("guarded"), { StatementId: "mine", Action: "lambda:InvokeFunction", Principal: "*" })).status).toBe(201);
    const other = await newTenant();
    for (const name of ["guarded", "never-was"]) {
      expect(await errorOf(await signed(other, "GET", policyPath(arn(name))))).toEqual({ status: 403, type: "AccessDeniedException", message: "" });
      expect(await errorOf(await signed(other, "POST", policyPath(arn(name)), { StatementId: "evil", Action: "lambda:InvokeFunction", Principal: other.accountId }))).toEqual({ status: 403, type: "AccessDeniedException", message: "" });
      expect(await errorOf(await signed(other, "DELETE", policyPath(arn(name), "/mine")))).toEqual({ status: 403, type: "AccessDeniedException", message: "" });
      // By bare name it reads as the other tenant's own (missing) function.
      expect(await errorOf(await signed(other, "GET", policyPath(name)))).toEqual({ status: 404, type: "ResourceNotFoundException", message: "The resource you requested does not exist." });
    }
    const policy = await signed(key, "GET", policyPath("guarded")).then((r) => r.json<{ Policy: string }>());
    expect((JSON.parse(policy.Policy) as { Statement: { Sid: string }[] }).Statement.map((s) => s.Sid)).toEqual(["mine"]);
  });

  it("crossTenantInvokeGrant: the granted account invokes by full ARN (as the owner), no one else and nothing else", async () => {
    const owner = await newTenant();
    const partner = await newTenant();
    const stranger = await newTenant();
    await createActive(owner, createFunctionBody("shared", CODE, { Publish: true }));
    const ownerArn = (qualifier?: string) => `arn:aws:lambda:us-east-1:${owner.accountId}:function:shared${qualifier ? `:${qualifier}` : ""}`;
    const grantFor = async (caller: TenantKey, raw: string) =>
      crossTenantInvokeGrant(env, caller.accountId, parseFunctionName(raw, { accountId: caller.accountId, region: "us-east-1" }, { qualified: true, otherAccounts: true }));

    // Nothing granted yet: nobody.
    expect(await grantFor(partner, ownerArn())).toBeNull();
    expect((await signed(owner, "POST", policyPath("shared"), { StatementId: "partner", Action: "lambda:InvokeFunction", Principal: partner.accountId })).status).toBe(201);
    // A statement with a source condition (written for a service) grants no direct invoke.
    expect((await signed(owner, "POST", policyPath("shared"), { StatementId: "bucket", Action: "lambda:InvokeFunction", Principal: stranger.accountId, SourceArn: "arn:aws:s3:::b" })).status).toBe(201);

    expect(await grantFor(partner, ownerArn())).toBe(owner.tenantId);
    expect(await grantFor(stranger, ownerArn())).toBeNull();
    // The grant is for the unqualified function: version 1 is not granted.
    expect(await grantFor(partner, ownerArn("1"))).toBeNull();
    // Another function of the owner, an account nobody has, and the caller's own account: no grant.
    expect(await grantFor(partner, `arn:aws:lambda:us-east-1:${owner.accountId}:function:other`)).toBeNull();
    expect(await grantFor(partner, "arn:aws:lambda:us-east-1:000000000000:function:shared")).toBeNull();
    expect(await grantFor(partner, `arn:aws:lambda:us-east-1:${partner.accountId}:function:shared`)).toBeNull();
    // Without the option the parse refuses other accounts as before (403, nothing learned).
    expect(() => parseFunctionName(ownerArn(), { accountId: partner.accountId, region: "us-east-1" }, { qualified: true })).toThrow();
    // The grant does not open the control plane: the partner still cannot read the function or its policy.
    expect((await errorOf(await signed(partner, "GET", fn(ownerArn())))).status).toBe(403);
    expect((await errorOf(await signed(partner, "GET", policyPath(ownerArn())))).status).toBe(403);

    expect((await signed(owner, "DELETE", policyPath("shared", "/partner"))).status).toBe(204);
    expect(await grantFor(partner, ownerArn())).toBeNull();
  });
});
