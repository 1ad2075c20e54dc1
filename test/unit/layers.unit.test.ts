import { describe, expect, it } from "vitest";
import { mergeLayers } from "../../src/code/layers";
import { NodeResolver } from "../../src/code/node-resolve";
import { checkCompatibility } from "../../src/lambda/layer-schemas";
import {
  checkLayerList,
  duplicateLayer,
  grantedAccount,
  grantsLayer,
  layerNodePath,
  layerStatement,
  parseLayerName,
  parseLayerVersionArn,
  parseVersionNumber,
} from "../../src/lambda/layers";
import { thrownLambdaError } from "../helpers/errors";

/** The pure rules of layers; AWS's wording from LocalStack's AWS-validated provider (see src/lambda/layers.ts). */
const CTX = { accountId: "111111111111", region: "us-east-1" };
const arn = (name: string, version: number, account = CTX.accountId) => `arn:aws:lambda:us-east-1:${account}:layer:${name}:${version}`;
const text = (s: string) => new TextEncoder().encode(s);

describe("layer names and ARNs", () => {
  it("parses names and layer ARNs of any account", () => {
    expect(parseLayerName("my-layer", CTX)).toEqual({ ...CTX, name: "my-layer" });
    expect(parseLayerName("arn:aws:lambda:eu-west-1:222222222222:layer:x", CTX)).toEqual({ accountId: "222222222222", region: "eu-west-1", name: "x" });
    expect(thrownLambdaError(() => parseLayerName("bad name", CTX)).type).toBe("ValidationException");
    expect(thrownLambdaError(() => parseLayerName("a".repeat(141), CTX)).message).toMatch(/Member must have length less than or equal to 140/);
  });

  it("parses version numbers and version ARNs", () => {
    expect(parseVersionNumber("3")).toBe(3);
    expect(thrownLambdaError(() => parseVersionNumber("0")).message).toBe("Layer Version Cannot be less than 1");
    expect(thrownLambdaError(() => parseVersionNumber("x")).type).toBe("ValidationException");
    expect(parseLayerVersionArn(arn("l", 7))).toEqual({ ...CTX, name: "l", version: 7 });
    expect(thrownLambdaError(() => parseLayerVersionArn("arn:aws:lambda:us-east-1:111111111111:layer:l")).message).toMatch(/at 'arn' failed to satisfy constraint/);
  });
});

describe("a function's Layers", () => {
  it("refuses more than 5 before anything else", () => {
    expect(thrownLambdaError(() => checkLayerList(["x", "x", "x", "x", "x", "x"], CTX)).message).toBe("Cannot reference more than 5 layers.");
  });

  it("lists the whole value when one entry is not a version ARN", () => {
    const error = thrownLambdaError(() => checkLayerList([arn("a", 1), "arn:aws:lambda:us-east-1:111111111111:layer:b"], CTX));
    expect(error.type).toBe("ValidationException");
    expect(error.message).toMatch(/^1 validation error detected: Value '\[arn:aws:lambda:us-east-1:111111111111:layer:a:1, arn:aws:lambda:us-east-1:111111111111:layer:b\]' at 'layers'/);
  });

  it("refuses layers of another region and names two versions of one layer", () => {
    expect(thrownLambdaError(() => checkLayerList(["arn:aws:lambda:eu-west-1:111111111111:layer:a:1"], CTX)).message).toBe(
      "Layers are not in the same region as the function. Layers are expected to be in region us-east-1.",
    );
    const refs = checkLayerList([arn("a", 1), arn("b", 1), arn("a", 2)], CTX);
    expect(duplicateLayer(refs)).toBe(
      `Two different versions of the same layer are not allowed to be referenced in the same function. ${arn("a", 1)} and ${arn("a", 2)} are versions of the same layer.`,
    );
    expect(duplicateLayer(checkLayerList([arn("a", 1), arn("b", 1)], CTX))).toBeUndefined();
  });
});

describe("layer policies", () => {
  it("writes principals as AWS returns them", () => {
    expect(layerStatement({ StatementId: "s", Action: "lambda:GetLayerVersion", Principal: "222222222222" }, arn("l", 1)).Principal).toEqual({
      AWS: "arn:aws:iam::222222222222:root",
    });
    expect(layerStatement({ StatementId: "s", Action: "lambda:GetLayerVersion", Principal: "*" }, arn("l", 1)).Principal).toBe("*");
    expect(grantedAccount("arn:aws:iam::333333333333:root")).toBe("333333333333");
  });

  it("grants the named account or everyone, and nobody through an organization", () => {
    const one = { principal: "222222222222", statement: layerStatement({ StatementId: "a", Action: "lambda:GetLayerVersion", Principal: "222222222222" }, "r") };
    const all = { principal: "*", statement: layerStatement({ StatementId: "b", Action: "lambda:GetLayerVersion", Principal: "*" }, "r") };
    const org = { principal: "*", statement: layerStatement({ StatementId: "c", Action: "lambda:GetLayerVersion", Principal: "*", OrganizationId: "o-abcdefghij" }, "r") };
    expect(grantsLayer([one], "222222222222")).toBe(true);
    expect(grantsLayer([one], "333333333333")).toBe(false);
    expect(grantsLayer([all], "333333333333")).toBe(true);
    expect(grantsLayer([org], "333333333333")).toBe(false);
  });

  it("checks runtimes and architectures with AWS's messages", () => {
    expect(() => checkCompatibility({ runtimes: ["nodejs22.x"], architectures: ["arm64"] })).not.toThrow();
    expect(thrownLambdaError(() => checkCompatibility({ runtimes: ["x"], architectures: ["y"] })).message).toMatch(/^2 validation errors detected: /);
  });
});

describe("the /opt tree", () => {
  it("merges layers in order, later files winning, and counts each layer's size", () => {
    const merged = mergeLayers(
      [new Map([["a.txt", text("first")], ["nodejs/x.js", text("1")]]), new Map([["a.txt", text("second!")]])],
      "nodejs22.x",
    );
    expect(new TextDecoder().decode(merged.opt.get("a.txt"))).toBe("second!");
    expect(merged.unzippedBytes).toBe(5 + 1 + 7);
    expect(merged.nodePath).toEqual(["nodejs/node22/node_modules", "nodejs/node_modules"]);
    expect(layerNodePath("nodejs20.x")).toEqual(["nodejs/node20/node_modules", "nodejs/node_modules"]);
  });

  it("resolves NODE_PATH packages inside /opt, with exports maps, and not /opt's own root", () => {
    const opt = new Map([
      ["nodejs/node_modules/a/package.json", text(JSON.stringify({ name: "a", exports: { ".": { require: "./c.js", import: "./e.mjs" } } }))],
      ["nodejs/node_modules/a/c.js", text("")],
      ["nodejs/node_modules/a/e.mjs", text("")],
      ["nodejs/node22/node_modules/b/index.js", text("")],
      ["lib.js", text("")],
    ]);
    const resolver = new NodeResolver(opt, { root: "/opt", rootOnNodePath: false });
    const dirs = layerNodePath("nodejs22.x");
    expect(resolver.fromDirectories("a", dirs, true)).toBe("nodejs/node_modules/a/c.js");
    expect(resolver.fromDirectories("a", dirs, false)).toBe("nodejs/node_modules/a/e.mjs");
    expect(resolver.fromDirectories("b", dirs, true)).toBe("nodejs/node22/node_modules/b/index.js");
    expect(resolver.fromDirectories("./b", dirs, true)).toBeUndefined();
    expect(resolver.resolve("lib", "", true)).toBeUndefined();
    expect(resolver.resolve("/opt/lib", "", true)).toBe("lib.js");
  });
});
