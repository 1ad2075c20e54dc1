import { beforeAll, describe, expect, it } from "vitest";
import type { TenantKey } from "../helpers/platform";
import { createActive, createFunctionBody, errorOf, fn, newTenant, signed } from "../helpers/platform";

/**
 * What cellfn answers for packages it cannot take (issue 12 items 4 and 5):
 * container images are refused whole with InvalidParameterValueException
 * (AWS's error shape; cellfn runs .zip packages only, README "Layers and
 * packages"), a request over 70,167,211 bytes gets AWS's 413 before it is
 * parsed (lambda-api-notes.md size limits), and a missing Runtime/Handler
 * AWS's own message (as CloudFormation quotes it: "Runtime and Handler are
 * mandatory parameters for functions created with deployment packages.").
 */

const CODE = { "index.js": "exports.handler = async () => 1;" };
const FUNCTIONS = "/2015-03-31/functions";
const IMAGES =
  "cellfn runs .zip deployment packages only: PackageType Image and Code.ImageUri are not supported. Package the function as a .zip and send it as Code.ZipFile (PackageType Zip, the default).";

describe("package types and request limits", () => {
  let key: TenantKey;
  beforeAll(async () => {
    key = await newTenant();
  });

  it("refuses container images whole, whatever else the request holds", async () => {
    const image = { FunctionName: "img", Role: createFunctionBody("x", CODE).Role, PackageType: "Image", Code: { ImageUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest" } };
    expect(await errorOf(await signed(key, "POST", FUNCTIONS, image))).toEqual({ status: 400, type: "InvalidParameterValueException", message: IMAGES });
    const uriOnly = { ...image, PackageType: undefined };
    expect(await errorOf(await signed(key, "POST", FUNCTIONS, uriOnly))).toEqual({ status: 400, type: "InvalidParameterValueException", message: IMAGES });
    const imageWithZip = createFunctionBody("img", CODE, { PackageType: "Image" });
    expect(await errorOf(await signed(key, "POST", FUNCTIONS, imageWithZip))).toEqual({ status: 400, type: "InvalidParameterValueException", message: IMAGES });
    expect((await signed(key, "GET", fn("img"))).status).toBe(404);
  });

  it("answers a missing Runtime or Handler with AWS's message", async () => {
    const body = createFunctionBody("no-runtime", CODE);
    const message = "Runtime and Handler are mandatory parameters for functions created with deployment packages.";
    expect(await errorOf(await signed(key, "POST", FUNCTIONS, { ...body, Runtime: undefined }))).toEqual({ status: 400, type: "InvalidParameterValueException", message });
    expect(await errorOf(await signed(key, "POST", FUNCTIONS, { ...body, Handler: undefined }))).toEqual({ status: 400, type: "InvalidParameterValueException", message });
  });

  it("accepts a module that calls process.exit at load and fails its invocation, as AWS", async () => {
    const config = await createActive(key, createFunctionBody("exits", { "index.js": "process.exit(2);\nexports.handler = async () => 'never';" }));
    expect(config.State).toBe("Active");
    const res = await signed(key, "POST", `${fn("exits")}/invocations`, {});
    expect(res.headers.get("X-Amz-Function-Error")).toBe("Unhandled");
    const body = await res.json<{ errorType: string; errorMessage: string }>();
    expect(body.errorType).toBe("Runtime.ExitError");
    expect(body.errorMessage).toMatch(/^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 2$/);
  });

  it("refuses a request over 70,167,211 bytes with AWS's 413 before parsing it", async () => {
    // Not even JSON: the size is refused first.
    const huge = "x".repeat(70_167_212);
    for (const [path, method, operation] of [
      [FUNCTIONS, "POST", "CreateFunction"],
      [`${fn("any")}/code`, "PUT", "UpdateFunctionCode"],
      ["/2018-10-31/layers/big/versions", "POST", "PublishLayerVersion"],
    ] as const) {
      expect(await errorOf(await signed(key, method, path, huge))).toEqual({
        status: 413,
        type: "RequestEntityTooLargeException",
        message: `Request must be smaller than 70167211 bytes for the ${operation} operation`,
      });
    }
    // Just under it, the zipped limit answers (Code.ZipFile decodes to more than 50 MB).
    const big = createFunctionBody("big", CODE, { Code: { ZipFile: "A".repeat(70_000_000) } });
    expect(await errorOf(await signed(key, "POST", FUNCTIONS, big))).toEqual({
      status: 413,
      type: "RequestTooLargeException",
      message: "Zipped size must be smaller than 52428800 bytes",
    });
  });
});
