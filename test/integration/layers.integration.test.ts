import { beforeAll, describe, expect, it } from "vitest";
import { makeZipBase64 } from "../fixtures/zips";
import type { TenantKey } from "../helpers/platform";
import { createFunctionBody, errorOf, newTenant, signed } from "../helpers/platform";

/**
 * The layer operations (issue 12 item 5). Expected answers: the service model
 * (docs/reference/lambda-api.md), the AWS CLI reference examples of
 * publish-layer-version / get-layer-version / add-layer-version-permission /
 * get-layer-version-policy (shapes, `Principal: {"AWS": "arn:aws:iam::<id>:root"}`,
 * `{"Version":"2012-10-17","Id":"default",...}`), LocalStack's AWS-validated
 * provider (services/lambda_/provider.py: "The resource you requested does not
 * exist.", "Layer Version Cannot be less than 1", "Layer version <arn> does not
 * exist.", "No policy is associated with the given resource.", the GetLayerPolicy
 * precondition message, the compatibleRuntimes/compatibleArchitectures wording) and
 * moto's tests ("Missing Content").
 */

const LAYERS = "/2018-10-31/layers";
const versions = (layer: string, rest = "") => `${LAYERS}/${encodeURIComponent(layer)}/versions${rest}`;
const zip = (files: Record<string, string>) => makeZipBase64(files);
const CONTENT = { ZipFile: zip({ "nodejs/node_modules/greet/index.js": "module.exports = () => 'hello';" }) };

async function publish(key: TenantKey, layer: string, extra: Record<string, unknown> = {}) {
  const res = await signed(key, "POST", versions(layer), { Content: CONTENT, ...extra });
  if (res.status !== 201) throw new Error(`PublishLayerVersion: ${res.status} ${await res.text()}`);
  return res.json<Record<string, unknown> & { LayerVersionArn: string; Version: number }>();
}

describe("PublishLayerVersion / GetLayerVersion / GetLayerVersionByArn", () => {
  let key: TenantKey;
  beforeAll(async () => {
    key = await newTenant();
  });

  it("publishes numbered versions and answers AWS's shape", async () => {
    const first = await publish(key, "shapes", {
      Description: "greetings",
      CompatibleRuntimes: ["nodejs22.x", "nodejs20.x"],
      LicenseInfo: "MIT",
      CompatibleArchitectures: ["arm64"],
    });
    const layerArn = `arn:aws:lambda:us-east-1:${key.accountId}:layer:shapes`;
    expect(first).toMatchObject({
      LayerArn: layerArn,
      LayerVersionArn: `${layerArn}:1`,
      Description: "greetings",
      Version: 1,
      CompatibleRuntimes: ["nodejs22.x", "nodejs20.x"],
      LicenseInfo: "MIT",
      CompatibleArchitectures: ["arm64"],
    });
    expect(first.CreatedDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    const content = first.Content as { Location: string; CodeSha256: string; CodeSize: number };
    expect(content.CodeSize).toBe(Buffer.from(CONTENT.ZipFile, "base64").byteLength);
    expect(content.CodeSha256).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    // The Location downloads the published zip.
    const download = await signed(key, "GET", new URL(content.Location).pathname + new URL(content.Location).search);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).toString("base64")).toBe(CONTENT.ZipFile);

    const second = await publish(key, "shapes");
    expect(second.Version).toBe(2);
    expect(second).not.toHaveProperty("CompatibleRuntimes");
    expect(second).not.toHaveProperty("LicenseInfo");
    expect(second.Description).toBe("");

    const got = await signed(key, "GET", versions("shapes", "/1")).then((r) => r.json<Record<string, unknown>>());
    expect({ ...got, Content: undefined }).toEqual({ ...first, Content: undefined });
    const byArn = await signed(key, "GET", `${LAYERS}?find=LayerVersion&Arn=${encodeURIComponent(`${layerArn}:2`)}`);
    expect(byArn.status).toBe(200);
    expect(await byArn.json()).toMatchObject({ LayerVersionArn: `${layerArn}:2`, Version: 2 });
    // The layer named by its ARN in the path.
    const byLayerArn = await signed(key, "GET", versions(layerArn, "/1"));
    expect(byLayerArn.status).toBe(200);
  });

  it("refuses bad input whole, as AWS words it", async () => {
    const cases: [string, unknown, number, string, string | RegExp][] = [
      ["missing-content", { Content: {} }, 400, "InvalidParameterValueException", "Missing Content"],
      ["s3-content", { Content: { S3Bucket: "b", S3Key: "k.zip" } }, 400, "InvalidParameterValueException", /S3 locations are not supported/],
      ["corrupt", { Content: { ZipFile: Buffer.from("not a zip").toString("base64") } }, 400, "InvalidParameterValueException", "Could not unzip uploaded file. Please check your file, then try to upload again."],
      [
        "bad-runtime",
        { Content: CONTENT, CompatibleRuntimes: ["nodejs22.x", "cobol"] },
        400,
        "ValidationException",
        /^1 validation error detected: Value '\[nodejs22\.x, cobol\]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: \[nodejs, /,
      ],
      [
        "bad-arch",
        { Content: CONTENT, CompatibleArchitectures: ["sparc"] },
        400,
        "ValidationException",
        "1 validation error detected: Value '[sparc]' at 'compatibleArchitectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]",
      ],
      ["bad name!", { Content: CONTENT }, 400, "ValidationException", /at 'layerName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
      ["unknown-field", { Content: CONTENT, Colour: "red" }, 400, "InvalidRequestContentException", /Unrecognized field "Colour"/],
    ];
    for (const [name, body, status, type, message] of cases) {
      const res = await signed(key, "POST", versions(name), body);
      const error = await errorOf(res);
      expect({ name, status: error.status, type: error.type }).toEqual({ name, status, type });
      if (typeof message === "string") expect(error.message).toBe(message);
      else expect(error.message).toMatch(message);
    }
    // Nothing half-written: none of those layers exists.
    const list = await signed(key, "GET", LAYERS).then((r) => r.json<{ Layers: { LayerName: string }[] }>());
    expect(list.Layers.map((l) => l.LayerName)).not.toContain("corrupt");
    expect((await signed(key, "GET", versions("corrupt"))).status).toBe(200);
  });

  it("counts live layer versions in GetAccountSettings' TotalCodeSize", async () => {
    const fresh = await newTenant();
    const usage = async () =>
      (await signed(fresh, "GET", "/2016-08-19/account-settings").then((r) => r.json<{ AccountUsage: { TotalCodeSize: number } }>())).AccountUsage.TotalCodeSize;
    expect(await usage()).toBe(0);
    const published = await publish(fresh, "counted");
    const size = (published.Content as { CodeSize: number }).CodeSize;
    expect(await usage()).toBe(size);
    await signed(fresh, "DELETE", versions("counted", "/1"));
    expect(await usage()).toBe(0);
  });

  it("answers missing versions, bad numbers and bad ARNs as AWS", async () => {
    await publish(key, "lookups");
    expect(await errorOf(await signed(key, "GET", versions("lookups", "/9")))).toEqual({
      status: 404,
      type: "ResourceNotFoundException",
      message: "The resource you requested does not exist.",
    });
    expect(await errorOf(await signed(key, "GET", versions("never-published", "/1")))).toMatchObject({ status: 404, type: "ResourceNotFoundException" });
    const otherRegion = `arn:aws:lambda:eu-west-1:${key.accountId}:layer:lookups:1`;
    expect(await errorOf(await signed(key, "GET", `${LAYERS}?find=LayerVersion&Arn=${encodeURIComponent(otherRegion)}`))).toMatchObject({ status: 404, type: "ResourceNotFoundException" });
    expect(await errorOf(await signed(key, "GET", versions("lookups", "/0")))).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: "Layer Version Cannot be less than 1",
    });
    const badArn = await errorOf(await signed(key, "GET", `${LAYERS}?find=LayerVersion&Arn=${encodeURIComponent("arn:aws:lambda:us-east-1:123:layer:x")}`));
    expect(badArn.status).toBe(400);
    expect(badArn.type).toBe("ValidationException");
    expect(badArn.message).toMatch(/^1 validation error detected: Value 'arn:aws:lambda:us-east-1:123:layer:x' at 'arn' failed to satisfy constraint/);
  });
});

describe("ListLayers / ListLayerVersions / DeleteLayerVersion", () => {
  let key: TenantKey;
  beforeAll(async () => {
    key = await newTenant();
    await publish(key, "alpha", { CompatibleRuntimes: ["nodejs20.x"], CompatibleArchitectures: ["x86_64"] });
    await publish(key, "alpha", { CompatibleRuntimes: ["nodejs22.x"] });
    await publish(key, "alpha", { CompatibleRuntimes: ["nodejs20.x"] });
    await publish(key, "beta");
    await publish(key, "gamma", { CompatibleRuntimes: ["nodejs22.x"] });
  });

  it("lists versions newest first, paginates with Marker/MaxItems and filters", async () => {
    const all = await signed(key, "GET", versions("alpha")).then((r) => r.json<{ LayerVersions: { Version: number; LayerVersionArn: string }[]; NextMarker?: string }>());
    expect(all.LayerVersions.map((v) => v.Version)).toEqual([3, 2, 1]);
    expect(all).not.toHaveProperty("NextMarker");
    expect(all.LayerVersions[0]).not.toHaveProperty("Content");

    const seen: number[] = [];
    let marker: string | undefined;
    for (let page = 0; page < 5; page++) {
      const query = `?MaxItems=2${marker === undefined ? "" : `&Marker=${encodeURIComponent(marker)}`}`;
      const body = await signed(key, "GET", versions("alpha", query)).then((r) => r.json<{ LayerVersions: { Version: number }[]; NextMarker?: string }>());
      seen.push(...body.LayerVersions.map((v) => v.Version));
      marker = body.NextMarker;
      if (marker === undefined) break;
    }
    expect(seen).toEqual([3, 2, 1]);

    const node20 = await signed(key, "GET", versions("alpha", "?CompatibleRuntime=nodejs20.x")).then((r) => r.json<{ LayerVersions: { Version: number }[] }>());
    expect(node20.LayerVersions.map((v) => v.Version)).toEqual([3, 1]);
    const x86 = await signed(key, "GET", versions("alpha", "?CompatibleArchitecture=x86_64")).then((r) => r.json<{ LayerVersions: { Version: number }[] }>());
    expect(x86.LayerVersions.map((v) => v.Version)).toEqual([1]);
  });

  it("lists each layer with its newest matching version, paginated", async () => {
    type Listed = { Layers: { LayerName: string; LayerArn: string; LatestMatchingVersion: { Version: number; LayerVersionArn: string } }[]; NextMarker?: string };
    const all = await signed(key, "GET", LAYERS).then((r) => r.json<Listed>());
    expect(all.Layers.map((l) => [l.LayerName, l.LatestMatchingVersion.Version])).toEqual([["alpha", 3], ["beta", 1], ["gamma", 1]]);
    expect(all.Layers[0]?.LayerArn).toBe(`arn:aws:lambda:us-east-1:${key.accountId}:layer:alpha`);
    const node22 = await signed(key, "GET", `${LAYERS}?CompatibleRuntime=nodejs22.x`).then((r) => r.json<Listed>());
    expect(node22.Layers.map((l) => [l.LayerName, l.LatestMatchingVersion.Version])).toEqual([["alpha", 2], ["gamma", 1]]);

    const first = await signed(key, "GET", `${LAYERS}?MaxItems=2`).then((r) => r.json<Listed>());
    expect(first.Layers.map((l) => l.LayerName)).toEqual(["alpha", "beta"]);
    expect(first.NextMarker).toEqual(expect.any(String));
    const rest = await signed(key, "GET", `${LAYERS}?MaxItems=2&Marker=${encodeURIComponent(first.NextMarker ?? "")}`).then((r) => r.json<Listed>());
    expect(rest.Layers.map((l) => l.LayerName)).toEqual(["gamma"]);
    expect(rest).not.toHaveProperty("NextMarker");
  });

  it("refuses bad MaxItems, markers and filters", async () => {
    const tooMany = await errorOf(await signed(key, "GET", `${LAYERS}?MaxItems=51`));
    expect(tooMany).toMatchObject({ status: 400, type: "ValidationException" });
    expect(tooMany.message).toMatch(/Value '51' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 50/);
    expect(await errorOf(await signed(key, "GET", versions("alpha", "?Marker=garbage!")))).toMatchObject({ status: 400, type: "InvalidParameterValueException" });
    expect(await errorOf(await signed(key, "GET", `${LAYERS}?Marker=nope`))).toMatchObject({ status: 400, type: "InvalidParameterValueException" });
    const runtime = await errorOf(await signed(key, "GET", `${LAYERS}?CompatibleRuntime=cobol`));
    expect(runtime).toMatchObject({ status: 400, type: "ValidationException" });
    expect(runtime.message).toMatch(/^1 validation error detected: Value 'cobol' at 'compatibleRuntime' failed to satisfy constraint: Member must satisfy enum value set: \[/);
  });

  it("deletes a version (204 even when missing), never reuses its number", async () => {
    const deleted = await signed(key, "DELETE", versions("beta", "/1"));
    expect(deleted.status).toBe(204);
    expect((await signed(key, "GET", versions("beta", "/1"))).status).toBe(404);
    expect((await signed(key, "DELETE", versions("beta", "/1"))).status).toBe(204);
    expect((await signed(key, "DELETE", versions("beta", "/77"))).status).toBe(204);
    const listed = await signed(key, "GET", LAYERS).then((r) => r.json<{ Layers: { LayerName: string }[] }>());
    expect(listed.Layers.map((l) => l.LayerName)).not.toContain("beta");
    expect((await publish(key, "beta")).Version).toBe(2);
  });
});

describe("layer version permissions", () => {
  let owner: TenantKey;
  let other: TenantKey;
  let third: TenantKey;
  let arn: string;
  const policy = (rest = "") => versions("shared", `/1/policy${rest}`);

  beforeAll(async () => {
    [owner, other, third] = await Promise.all([newTenant(), newTenant(), newTenant()]);
    arn = (await publish(owner, "shared")).LayerVersionArn;
  });

  it("Add / Get / Remove with AWS's statement, policy and RevisionId checks", async () => {
    expect(await errorOf(await signed(owner, "GET", policy()))).toEqual({
      status: 404,
      type: "ResourceNotFoundException",
      message: "No policy is associated with the given resource.",
    });
    const added = await signed(owner, "POST", policy(), { StatementId: "partner", Action: "lambda:GetLayerVersion", Principal: other.accountId });
    expect(added.status).toBe(201);
    const body = await added.json<{ Statement: string; RevisionId: string }>();
    const statement = { Sid: "partner", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${other.accountId}:root` }, Action: "lambda:GetLayerVersion", Resource: arn };
    expect(JSON.parse(body.Statement)).toEqual(statement);
    expect(body.RevisionId).toMatch(/^[0-9a-f-]{36}$/);

    const got = await signed(owner, "GET", policy()).then((r) => r.json<{ Policy: string; RevisionId: string }>());
    expect(JSON.parse(got.Policy)).toEqual({ Version: "2012-10-17", Id: "default", Statement: [statement] });
    expect(got.RevisionId).toBe(body.RevisionId);

    expect(await errorOf(await signed(owner, "POST", policy(), { StatementId: "partner", Action: "lambda:GetLayerVersion", Principal: "*" }))).toEqual({
      status: 409,
      type: "ResourceConflictException",
      message: "The statement id (partner) provided already exists. Please provide a new statement id, or remove the existing statement.",
    });
    expect(await errorOf(await signed(owner, "POST", `${policy()}?RevisionId=stale`, { StatementId: "all", Action: "lambda:GetLayerVersion", Principal: "*" }))).toEqual({
      status: 412,
      type: "PreconditionFailedException",
      message: "The Revision Id provided does not match the latest Revision Id. Call the GetLayerPolicy API to retrieve the latest Revision Id",
    });
    const wrongAction = await errorOf(await signed(owner, "POST", policy(), { StatementId: "x", Action: "lambda:InvokeFunction", Principal: "*" }));
    expect(wrongAction.type).toBe("ValidationException");
    expect(wrongAction.message).toBe(
      "1 validation error detected: Value 'lambda:InvokeFunction' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: lambda:GetLayerVersion",
    );
    expect(await errorOf(await signed(owner, "POST", versions("shared", "/5/policy"), { StatementId: "x", Action: "lambda:GetLayerVersion", Principal: "*" }))).toEqual({
      status: 404,
      type: "ResourceNotFoundException",
      message: `Layer version ${arn.replace(/:1$/, ":5")} does not exist.`,
    });

    expect(await errorOf(await signed(owner, "DELETE", policy("/nope")))).toEqual({
      status: 404,
      type: "ResourceNotFoundException",
      message: "Statement nope is not found in resource policy.",
    });
    expect((await signed(owner, "DELETE", `${policy("/partner")}?RevisionId=stale`)).status).toBe(412);
    expect((await signed(owner, "DELETE", `${policy("/partner")}?RevisionId=${got.RevisionId}`)).status).toBe(204);
    expect((await signed(owner, "GET", policy())).status).toBe(404);
  });

  it("another tenant sees nothing unless granted; a grant opens GetLayerVersion only", async () => {
    const denied = `User: arn:aws:iam::${other.accountId}:root is not authorized to perform: lambda:GetLayerVersion on resource: ${arn} because no resource-based policy allows the lambda:GetLayerVersion action`;
    const byArn = () => signed(other, "GET", `${LAYERS}?find=LayerVersion&Arn=${encodeURIComponent(arn)}`);
    const byPath = () => signed(other, "GET", versions(arn.replace(/:1$/, ""), "/1"));
    expect(await errorOf(await byArn())).toEqual({ status: 403, type: "AccessDeniedException", message: denied });
    expect(await errorOf(await byPath())).toEqual({ status: 403, type: "AccessDeniedException", message: denied });
    // A version that does not exist answers the same: nothing is learnt.
    const missing = arn.replace(/:1$/, ":42");
    expect((await errorOf(await signed(other, "GET", `${LAYERS}?find=LayerVersion&Arn=${encodeURIComponent(missing)}`))).message).toBe(denied.replace(arn, missing));
    // Listing, deleting, publishing and policies of another account's layer are refused.
    const layerArnOf = arn.replace(/:1$/, "");
    expect((await signed(other, "GET", versions(layerArnOf))).status).toBe(403);
    expect((await signed(other, "DELETE", versions(layerArnOf, "/1"))).status).toBe(403);
    expect((await signed(other, "POST", versions(layerArnOf), { Content: CONTENT })).status).toBe(403);
    expect((await signed(other, "GET", versions(layerArnOf, "/1/policy"))).status).toBe(403);
    expect((await signed(other, "POST", versions(layerArnOf, "/1/policy"), { StatementId: "me", Action: "lambda:GetLayerVersion", Principal: "*" })).status).toBe(403);
    const otherList = await signed(other, "GET", LAYERS).then((r) => r.json<{ Layers: unknown[] }>());
    expect(otherList.Layers).toEqual([]);
    // Still present for the owner: the refused calls changed nothing.
    expect((await signed(owner, "GET", versions("shared", "/1"))).status).toBe(200);

    expect((await signed(owner, "POST", policy(), { StatementId: "other", Action: "lambda:GetLayerVersion", Principal: `arn:aws:iam::${other.accountId}:root` })).status).toBe(201);
    expect((await byArn()).status).toBe(200);
    expect(await byPath().then((r) => r.json())).toMatchObject({ LayerVersionArn: arn, Version: 1 });
    // The grant names one account: a third tenant is still refused, until everyone is granted.
    expect((await signed(third, "GET", `${LAYERS}?find=LayerVersion&Arn=${encodeURIComponent(arn)}`)).status).toBe(403);
    expect((await signed(owner, "POST", policy(), { StatementId: "everyone", Action: "lambda:GetLayerVersion", Principal: "*" })).status).toBe(201);
    expect((await signed(third, "GET", `${LAYERS}?find=LayerVersion&Arn=${encodeURIComponent(arn)}`)).status).toBe(200);
    // ...and still cannot list or change it.
    expect((await signed(third, "GET", versions(layerArnOf))).status).toBe(403);
    expect((await signed(third, "DELETE", versions(layerArnOf, "/1"))).status).toBe(403);
    // An organization-limited statement grants nobody (cellfn has no AWS Organizations).
    const orgOnly = await newTenant();
    await signed(owner, "DELETE", policy("/everyone"));
    expect((await signed(owner, "POST", policy(), { StatementId: "org", Action: "lambda:GetLayerVersion", Principal: "*", OrganizationId: "o-abcdefghij" })).status).toBe(201);
    expect((await signed(orgOnly, "GET", `${LAYERS}?find=LayerVersion&Arn=${encodeURIComponent(arn)}`)).status).toBe(403);
  });

  it("an invoke-scope key cannot publish or change policies", async () => {
    const reader = await newTenant("invoke");
    expect((await signed(reader, "POST", versions("mine"), { Content: CONTENT })).status).toBe(403);
    expect((await signed(reader, "GET", LAYERS)).status).toBe(200);
  });

  it("a function of another tenant may not name an ungranted layer", async () => {
    const stranger = await newTenant();
    const res = await signed(stranger, "POST", "/2015-03-31/functions", createFunctionBody("uses-foreign", { "index.js": "exports.handler = async () => 1;" }, { Layers: [arn] }));
    expect(await errorOf(res)).toEqual({
      status: 403,
      type: "AccessDeniedException",
      message: `User: arn:aws:iam::${stranger.accountId}:root is not authorized to perform: lambda:GetLayerVersion on resource: ${arn} because no resource-based policy allows the lambda:GetLayerVersion action`,
    });
    expect((await signed(stranger, "GET", "/2015-03-31/functions/uses-foreign")).status).toBe(404);
  });
});
