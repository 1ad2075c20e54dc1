import { beforeAll, describe, expect, it } from "vitest";
import { prepareCode } from "../../src/code/build";
import { makeZip, makeZipBase64 } from "../fixtures/zips";
import { thrownAsync } from "../helpers/errors";
import type { TenantKey } from "../helpers/platform";
import { createActive, createFunctionBody, errorOf, fn, newTenant, signed, updateAndWait, waitUntilSettled } from "../helpers/platform";

/**
 * Functions' `Layers` (issue 12 item 5): checks and messages as AWS
 * (LocalStack's AWS-validated `_validate_layers`: "Cannot reference more than 5
 * layers.", "Layer version <arn> does not exist.", the 'layers' validation
 * message, "Two different versions of the same layer ..."; AWS's "Function code
 * combined with layers exceeds the maximum allowed size of 262144000 bytes. The
 * actual size is N bytes."), `Layers: [{Arn, CodeSize}]` in the configuration,
 * and the runtime view: layer files under /opt in order (later layers win),
 * modules resolved through Lambda's NODE_PATH (/opt/nodejs/node22/node_modules,
 * then /opt/nodejs/node_modules), the zip's own node_modules first.
 */

const LAYERS = "/2018-10-31/layers";

async function publishLayer(key: TenantKey, name: string, files: Record<string, string>) {
  const res = await signed(key, "POST", `${LAYERS}/${name}/versions`, { Content: { ZipFile: makeZipBase64(files) } });
  if (res.status !== 201) throw new Error(`PublishLayerVersion: ${res.status} ${await res.text()}`);
  return res.json<{ LayerVersionArn: string; Content: { CodeSize: number } }>();
}

async function invoke(key: TenantKey, name: string, qualifier?: string): Promise<unknown> {
  const res = await signed(key, "POST", `${fn(name)}/invocations${qualifier ? `?Qualifier=${qualifier}` : ""}`, {});
  const text = await res.text();
  if (res.status !== 200 || res.headers.get("X-Amz-Function-Error")) throw new Error(`Invoke ${name}: ${res.status} ${text}`);
  return JSON.parse(text);
}

const HANDLER = {
  "index.js": `
    const fs = require("fs");
    const greet = require("greet");
    exports.handler = async () => ({
      greet: greet(),
      data: fs.readFileSync("/opt/data.txt", "utf8"),
      listed: fs.readdirSync("/opt").sort(),
    });`,
};

describe("functions with layers", () => {
  let key: TenantKey;
  let base: { LayerVersionArn: string; Content: { CodeSize: number } };
  let override: { LayerVersionArn: string };

  beforeAll(async () => {
    key = await newTenant();
    base = await publishLayer(key, "base", {
      "nodejs/node_modules/greet/index.js": "module.exports = () => 'from nodejs/node_modules';",
      "data.txt": "base",
    });
    override = await publishLayer(key, "override", {
      "nodejs/node22/node_modules/greet/index.js": "module.exports = () => 'from node22';",
      "data.txt": "override",
    });
  });

  it("resolves a package from a layer, shows Layers as AWS, serves /opt in order", async () => {
    const config = await createActive(key, createFunctionBody("layered", HANDLER, { Layers: [base.LayerVersionArn] }));
    expect(config.Layers).toEqual([{ Arn: base.LayerVersionArn, CodeSize: base.Content.CodeSize }]);
    expect(await invoke(key, "layered")).toEqual({ greet: "from nodejs/node_modules", data: "base", listed: ["data.txt", "nodejs"] });

    // A later layer overrides /opt/data.txt, and node22/node_modules comes first on NODE_PATH.
    const updated = await updateAndWait(key, "PUT", `${fn("layered")}/configuration`, "layered", { Layers: [base.LayerVersionArn, override.LayerVersionArn] });
    expect(updated.status).toBe(200);
    expect(await invoke(key, "layered")).toEqual({ greet: "from node22", data: "override", listed: ["data.txt", "nodejs"] });
    const listed = await signed(key, "GET", "/2015-03-31/functions").then((r) => r.json<{ Functions: { FunctionName: string; Layers?: unknown[] }[] }>());
    expect(listed.Functions.find((f) => f.FunctionName === "layered")?.Layers).toHaveLength(2);

    // The order matters: base last wins for data.txt (greet still from node22, first on NODE_PATH).
    await updateAndWait(key, "PUT", `${fn("layered")}/configuration`, "layered", { Layers: [override.LayerVersionArn, base.LayerVersionArn] });
    expect(await invoke(key, "layered")).toMatchObject({ greet: "from node22", data: "base" });
  });

  it("the zip's own node_modules wins over a layer's", async () => {
    await createActive(
      key,
      createFunctionBody(
        "own-first",
        { ...HANDLER, "node_modules/greet/index.js": "module.exports = () => 'from the zip';" },
        { Layers: [override.LayerVersionArn] },
      ),
    );
    expect(await invoke(key, "own-first")).toMatchObject({ greet: "from the zip", data: "override" });
  });

  it("an ES module imports a layer's package and reads /opt through fs/promises", async () => {
    const esm = {
      "index.mjs":
        'import greet from "greet";\nimport { readFile } from "node:fs/promises";\n' +
        'export const handler = async () => ({ greet: greet(), data: await readFile("/opt/data.txt", "utf8") });\n',
    };
    await createActive(key, createFunctionBody("esm-layered", esm, { Layers: [base.LayerVersionArn] }));
    expect(await invoke(key, "esm-layered")).toEqual({ greet: "from nodejs/node_modules", data: "base" });
  });

  it("a function keeps the layer version it named; a published version keeps its layers", async () => {
    const v1 = await publishLayer(key, "evolving", { "nodejs/node_modules/greet/index.js": "module.exports = () => 'v1';", "data.txt": "v1" });
    await createActive(key, createFunctionBody("keeps", HANDLER, { Layers: [v1.LayerVersionArn], Publish: true }));
    const v2 = await publishLayer(key, "evolving", { "nodejs/node_modules/greet/index.js": "module.exports = () => 'v2';", "data.txt": "v2" });
    expect(await invoke(key, "keeps")).toMatchObject({ greet: "v1" });

    // Deleting the version and changing the Handler's code keeps building from it.
    expect((await signed(key, "DELETE", `${LAYERS}/evolving/versions/1`)).status).toBe(204);
    const code = await updateAndWait(key, "PUT", `${fn("keeps")}/code`, "keeps", { ZipFile: makeZipBase64({ "index.js": HANDLER["index.js"].replace("greet()", "greet() + '!'") }) });
    expect(code.status).toBe(200);
    expect(await invoke(key, "keeps")).toMatchObject({ greet: "v1!" });
    // A deleted version cannot be named anew.
    expect(await errorOf(await signed(key, "PUT", `${fn("keeps")}/configuration`, { Layers: [v1.LayerVersionArn] }))).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: `Layer version ${v1.LayerVersionArn} does not exist.`,
    });

    await updateAndWait(key, "PUT", `${fn("keeps")}/configuration`, "keeps", { Layers: [v2.LayerVersionArn] });
    expect(await invoke(key, "keeps")).toMatchObject({ greet: "v2!" });
    expect(await invoke(key, "keeps", "1")).toMatchObject({ greet: "v1" });
    const version1 = await signed(key, "GET", `${fn("keeps")}/configuration?Qualifier=1`).then((r) => r.json<{ Layers: { Arn: string }[] }>());
    expect(version1.Layers.map((l) => l.Arn)).toEqual([v1.LayerVersionArn]);

    // Layers [] removes them: greet is then missing at invoke.
    await updateAndWait(key, "PUT", `${fn("keeps")}/configuration`, "keeps", { Layers: [] });
    const latest = await waitUntilSettled(key, "keeps");
    expect(latest).not.toHaveProperty("Layers");
    const res = await signed(key, "POST", `${fn("keeps")}/invocations`, {});
    expect(res.headers.get("X-Amz-Function-Error")).toBe("Unhandled");
    expect(await res.text()).toMatch(/Cannot find module 'greet'/);
  });

  it("refuses bad Layers lists whole, as AWS words it", async () => {
    const arn = (name: string, version: number) => `arn:aws:lambda:us-east-1:${key.accountId}:layer:${name}:${version}`;
    const create = (name: string, layers: string[]) =>
      signed(key, "POST", "/2015-03-31/functions", createFunctionBody(name, HANDLER, { Layers: layers })).then(errorOf);
    expect(await create("six", Array.from({ length: 6 }, (_, i) => arn("base", i + 1)))).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: "Cannot reference more than 5 layers.",
    });
    expect(await create("missing", [arn("nothing-here", 1)])).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: `Layer version ${arn("nothing-here", 1)} does not exist.`,
    });
    const malformed = await create("malformed", [`arn:aws:lambda:us-east-1:${key.accountId}:layer:base`]);
    expect(malformed.type).toBe("ValidationException");
    expect(malformed.message).toMatch(/^1 validation error detected: Value '\[arn:aws:lambda:us-east-1:\d{12}:layer:base\]' at 'layers' failed to satisfy constraint: Member must satisfy constraint: \[/);
    const second = await publishLayer(key, "base", { "x.txt": "x" });
    expect(await create("twice", [base.LayerVersionArn, second.LayerVersionArn])).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: `Two different versions of the same layer are not allowed to be referenced in the same function. ${base.LayerVersionArn} and ${second.LayerVersionArn} are versions of the same layer.`,
    });
    expect(await create("elsewhere", [`arn:aws:lambda:eu-west-1:${key.accountId}:layer:base:1`])).toEqual({
      status: 400,
      type: "InvalidParameterValueException",
      message: "Layers are not in the same region as the function. Layers are expected to be in region us-east-1.",
    });
    for (const name of ["six", "missing", "malformed", "twice", "elsewhere"]) expect((await signed(key, "GET", fn(name))).status).toBe(404);
  });

  it("counts the layers in the 250 MB unzipped limit", async () => {
    const zip = makeZip({ "index.js": "exports.handler = async () => 1;" });
    const error = await thrownAsync(() => prepareCode(zip, "index.handler", { opt: new Map(), nodePath: [], unzippedBytes: 262_144_000 }));
    expect(error.type).toBe("InvalidParameterValueException");
    expect(error.message).toMatch(/^Function code combined with layers exceeds the maximum allowed size of 262144000 bytes\. The actual size is 262144\d{3} bytes\.$/);
    await expect(prepareCode(zip, "index.handler", { opt: new Map(), nodePath: [], unzippedBytes: 1000 })).resolves.toMatchObject({ handler: "index.handler" });
  });

  it("uses another tenant's layer once granted, and keeps it when the grant is removed", async () => {
    const user = await newTenant();
    const shared = await publishLayer(key, "shared-lib", { "nodejs/node_modules/greet/index.js": "module.exports = () => 'shared';", "data.txt": "shared" });
    const body = createFunctionBody("borrower", HANDLER, { Layers: [shared.LayerVersionArn] });
    expect((await signed(user, "POST", "/2015-03-31/functions", body)).status).toBe(403);
    const policyPath = `${LAYERS}/shared-lib/versions/1/policy`;
    expect((await signed(key, "POST", policyPath, { StatementId: "user", Action: "lambda:GetLayerVersion", Principal: user.accountId })).status).toBe(201);
    await createActive(user, body);
    expect(await invoke(user, "borrower")).toMatchObject({ greet: "shared", data: "shared" });
    expect((await signed(key, "DELETE", `${policyPath}/user`)).status).toBe(204);
    expect(await invoke(user, "borrower")).toMatchObject({ greet: "shared" });
    // Naming it again is refused now.
    expect((await signed(user, "PUT", `${fn("borrower")}/configuration`, { Layers: [shared.LayerVersionArn] })).status).toBe(403);
  });
});
