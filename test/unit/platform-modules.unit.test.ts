/**
 * The preinstalled AWS SDK's modules (scripts/build-platform-sdk.mjs,
 * src/code/platform-modules.ts): what a function's isolate gets beside its
 * bundle, and what the pre-bundles leave out.
 */
import { describe, expect, it } from "vitest";
import { PLATFORM_SDK } from "../../src/code/platform-sdk.generated";
import { platformSdkBuiltins, platformSdkModule, platformSdkModules } from "../../src/code/platform-modules";

const importing = (...names: string[]) => names.map((name) => `import * as x from "./${platformSdkModule(name)}";\n`).join("");

describe("preinstalled SDK modules", () => {
  it("puts only the imported package beside a bundle, and nothing for a bundle that imports none", () => {
    expect(Object.keys(platformSdkModules(importing("@aws-sdk/client-lambda")))).toEqual(["platform-sdk/aws-sdk/client-lambda.js"]);
    expect(platformSdkModules("export const handler = async () => 1;\n")).toEqual({});
  });

  it("lib-dynamodb imports the preinstalled client-dynamodb module instead of carrying its own copy", () => {
    const lib = PLATFORM_SDK["@aws-sdk/lib-dynamodb"]!;
    const client = PLATFORM_SDK["@aws-sdk/client-dynamodb"]!;
    expect(lib).toMatch(/from ?"\.\/client-dynamodb\.js"/);
    expect(lib).not.toContain('"PutItem"'); // the client's operation schemas live in client-dynamodb.js only
    expect(client).toContain('"PutItem"');
    expect(Object.keys(platformSdkModules(importing("@aws-sdk/lib-dynamodb"))).sort()).toEqual([
      "platform-sdk/aws-sdk/client-dynamodb.js",
      "platform-sdk/aws-sdk/lib-dynamodb.js",
    ]);
    for (const name of platformSdkBuiltins("@aws-sdk/client-dynamodb")) expect(platformSdkBuiltins("@aws-sdk/lib-dynamodb")).toContain(name);
  });

  it("keeps only the environment link of the default credential chain: no ini/SSO/process/IMDS providers or nested STS/SSO clients", () => {
    for (const [name, text] of Object.entries(PLATFORM_SDK)) {
      if (!name.startsWith("@aws-sdk/client-")) continue;
      expect(text, name).toContain("Could not load credentials from any providers");
      expect(text, name).toContain("is not available in a cellfn function");
      for (const gone of ["credential_process", "sso_start_url", "AssumeRoleWithWebIdentity"]) expect(text, `${name}: ${gone}`).not.toContain(gone);
      expect(platformSdkBuiltins(name), name).not.toContain("child_process");
    }
  });

  it("turns the SDK's dynamic imports of built-ins and @smithy/core into static ones: few lazy module initialisers", () => {
    // esbuild's lazy initialiser for a module reached by import() (`var a,b=c(()=>{...})`): 491 in client-lambda before.
    const lazy = PLATFORM_SDK["@aws-sdk/client-lambda"]!.match(/\w=\w{1,3}\(\(\)=>\{/g) ?? [];
    expect(lazy.length).toBeLessThan(30);
  });
});
