/**
 * Lambda layers end to end with the real @aws-sdk/client-lambda against
 * `wrangler dev`: publish a layer holding a node_modules package, create a
 * function that requires the package without shipping it, invoke it, then
 * move the function to a newer layer version; share a layer with another
 * tenant through AddLayerVersionPermission.
 */
import {
  AddLayerVersionPermissionCommand,
  CreateFunctionCommand,
  GetLayerVersionByArnCommand,
  GetLayerVersionCommand,
  GetLayerVersionPolicyCommand,
  InvokeCommand,
  type LambdaClient,
  ListLayersCommand,
  ListLayerVersionsCommand,
  PublishLayerVersionCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenantWithKey, lambdaClient, type Platform, startPlatform, type TenantCredentials, untilActive, untilUpdated } from "./harness";

const ROLE = "arn:aws:iam::123456789012:role/lambda-role";
const MTIME = new Date("2024-01-01T00:00:00Z");

function zipOf(files: Record<string, string>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([path, text]) => [path, [strToU8(text), { mtime: MTIME }]])));
}

/** A layer with a CommonJS package `slugify-lite` in nodejs/node_modules, as Lambda's docs lay it out. */
function layerZip(version: string): Uint8Array {
  return zipOf({
    "nodejs/node_modules/slugify-lite/package.json": JSON.stringify({ name: "slugify-lite", version, main: "lib/index.js" }),
    "nodejs/node_modules/slugify-lite/lib/index.js":
      `exports.version = ${JSON.stringify(version)};\n` +
      "exports.slugify = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');\n",
  });
}

const FUNCTION_ZIP = zipOf({
  "index.js":
    "const { slugify, version } = require('slugify-lite');\n" +
    "const pkg = require('/opt/nodejs/node_modules/slugify-lite/package.json');\n" +
    "exports.handler = async (event) => ({ slug: slugify(event.title), version, pkgVersion: pkg.version });\n",
});

async function invoke(client: LambdaClient, name: string, payload: unknown): Promise<unknown> {
  const out = await client.send(new InvokeCommand({ FunctionName: name, Payload: new TextEncoder().encode(JSON.stringify(payload)) }));
  const text = new TextDecoder().decode(out.Payload);
  if (out.FunctionError) throw new Error(`${name} failed: ${text}`);
  return JSON.parse(text);
}

describe("layers through the AWS SDK", () => {
  let platform: Platform;
  let acme: TenantCredentials;
  let lambda: LambdaClient;
  const clients: LambdaClient[] = [];

  beforeAll(async () => {
    platform = await startPlatform();
    acme = await createTenantWithKey(platform, "acme");
    lambda = lambdaClient(platform, acme);
    clients.push(lambda);
  });

  afterAll(async () => {
    for (const c of clients) c.destroy();
    await platform?.stop();
  });

  it("publishes a layer, runs a function that requires its package, moves to a newer version", async () => {
    const v1 = await lambda.send(
      new PublishLayerVersionCommand({
        LayerName: "slugs",
        Description: "slugify",
        Content: { ZipFile: layerZip("1.0.0") },
        CompatibleRuntimes: ["nodejs22.x"],
        CompatibleArchitectures: ["x86_64", "arm64"],
        LicenseInfo: "MIT",
      }),
    );
    expect(v1.$metadata.httpStatusCode).toBe(201);
    const layerArn = `arn:aws:lambda:us-east-1:${acme.accountId}:layer:slugs`;
    expect(v1).toMatchObject({ LayerArn: layerArn, LayerVersionArn: `${layerArn}:1`, Version: 1, Description: "slugify", LicenseInfo: "MIT" });
    expect(v1.CreatedDate).toMatch(/\+0000$/);
    // Content.Location downloads the zip that was published, without credentials.
    const download = await fetch(v1.Content?.Location ?? "");
    expect(download.status).toBe(200);
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(layerZip("1.0.0"));

    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: "slugger",
        Role: ROLE,
        Runtime: "nodejs22.x",
        Handler: "index.handler",
        Code: { ZipFile: FUNCTION_ZIP },
        Layers: [v1.LayerVersionArn ?? ""],
      }),
    );
    expect(created.Layers).toEqual([{ Arn: `${layerArn}:1`, CodeSize: layerZip("1.0.0").byteLength }]);
    await untilActive(lambda, "slugger");
    expect(await invoke(lambda, "slugger", { title: "Hello, Layers!" })).toEqual({ slug: "hello-layers", version: "1.0.0", pkgVersion: "1.0.0" });

    const v2 = await lambda.send(new PublishLayerVersionCommand({ LayerName: "slugs", Content: { ZipFile: layerZip("2.0.0") }, CompatibleRuntimes: ["nodejs22.x"] }));
    expect(v2.Version).toBe(2);
    const listed = await lambda.send(new ListLayerVersionsCommand({ LayerName: "slugs" }));
    expect(listed.LayerVersions?.map((v) => v.Version)).toEqual([2, 1]);
    const layers = await lambda.send(new ListLayersCommand({ CompatibleRuntime: "nodejs22.x" }));
    expect(layers.Layers?.map((l) => [l.LayerName, l.LatestMatchingVersion?.Version])).toEqual([["slugs", 2]]);

    const updated = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: "slugger", Layers: [v2.LayerVersionArn ?? ""] }));
    expect(updated.LastUpdateStatus).toBe("InProgress");
    await untilUpdated(lambda, "slugger");
    expect(await invoke(lambda, "slugger", { title: "Version Two" })).toEqual({ slug: "version-two", version: "2.0.0", pkgVersion: "2.0.0" });
    const got = await lambda.send(new GetLayerVersionCommand({ LayerName: "slugs", VersionNumber: 1 }));
    expect(got.LayerVersionArn).toBe(`${layerArn}:1`);
  });

  it("shares a layer version with another tenant through AddLayerVersionPermission", async () => {
    const beta = await createTenantWithKey(platform, "beta");
    const other = lambdaClient(platform, beta);
    clients.push(other);
    const arn = `arn:aws:lambda:us-east-1:${acme.accountId}:layer:slugs:2`;
    const denied = await other.send(new GetLayerVersionByArnCommand({ Arn: arn })).then(
      () => undefined,
      (err: Error & { $metadata?: { httpStatusCode?: number } }) => err,
    );
    expect({ name: denied?.name, status: denied?.$metadata?.httpStatusCode }).toEqual({ name: "AccessDeniedException", status: 403 });

    const granted = await lambda.send(
      new AddLayerVersionPermissionCommand({ LayerName: "slugs", VersionNumber: 2, StatementId: "beta", Action: "lambda:GetLayerVersion", Principal: beta.accountId }),
    );
    expect(JSON.parse(granted.Statement ?? "{}")).toMatchObject({ Principal: { AWS: `arn:aws:iam::${beta.accountId}:root` }, Resource: arn });
    const policy = await lambda.send(new GetLayerVersionPolicyCommand({ LayerName: "slugs", VersionNumber: 2 }));
    expect(policy.RevisionId).toBe(granted.RevisionId);

    expect((await other.send(new GetLayerVersionByArnCommand({ Arn: arn }))).Version).toBe(2);
    await other.send(new CreateFunctionCommand({ FunctionName: "borrower", Role: ROLE, Runtime: "nodejs22.x", Handler: "index.handler", Code: { ZipFile: FUNCTION_ZIP }, Layers: [arn] }));
    await untilActive(other, "borrower");
    expect(await invoke(other, "borrower", { title: "Shared Code" })).toMatchObject({ slug: "shared-code", version: "2.0.0" });
  });
});
