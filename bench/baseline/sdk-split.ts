/**
 * Issue 11: what part of importing the preinstalled `@aws-sdk/client-lambda`
 * costs a cold start. Each variant is a new bare Worker Loader isolate (no
 * cellfn runtime, no platform) whose handler does one more step than the one
 * before; bench/cold.ts runs them interleaved with the real (d)/(d-sdk) rows
 * (`BENCH_SDK_VARIANTS=split`). The isolate's environment carries credentials
 * and region as a cellfn function's does (process.env from the bindings).
 *
 *   builtins  the 11 Node built-ins the client imports, and nothing else
 *   blob      the client's own text (same bytes, imports removed) inside a
 *             function that is never called: compiling it, no evaluation
 *   import    `import * as sdk` of the client's module: compile + evaluate
 *             the module graph (its built-ins, error classes, schemas)
 *   client    + `new LambdaClient({})` on the first invoke (as the (d-sdk) handler)
 *   explicit  + `new LambdaClient({ region, credentials })` instead: no provider chains
 *   resolve   `client`, then awaits its region, credentials and endpoint (what
 *             the first `send` resolves before any request is made)
 *   client@X  `client` with `@aws-sdk/x-exp-X`, client-lambda built another way
 *             (`npm run sdk -- --experiments`: before, direct, nokeep, plain)
 */
import { PLATFORM_SDK } from "../../src/code/platform-sdk.generated";

export const SDK_SPLIT_STEPS = ["builtins", "blob", "import", "client", "explicit", "resolve"] as const;
/** A step, or `client@<experiment>`: the `client` step with `@aws-sdk/x-exp-<experiment>`. */
export type SdkSplitVariant = (typeof SDK_SPLIT_STEPS)[number] | `client@${string}`;
const EXPERIMENT = "@aws-sdk/x-exp-";

/** What a cellfn function's environment gives the SDK (src/runtime/worker-code.ts), with dummy secrets. */
export const SDK_SPLIT_ENV = {
  AWS_REGION: "us-east-1",
  AWS_DEFAULT_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "ASIABENCHSPLIT000000",
  AWS_SECRET_ACCESS_KEY: "bench-split-secret",
  AWS_SESSION_TOKEN: "bench-split-token",
  AWS_ENDPOINT_URL: "https://cellfn.internal",
  AWS_LAMBDA_FUNCTION_NAME: "bench-split",
};

const ECHO = "return { ok: true, echo: event";
const IMPORTS = /import\*as [\w$]+ from ?"(node:[\w/]+)";/g;

let blob: string | undefined;
/** The client's module text with its `import`/`export` statements removed, as the body of a function never called. */
function blobModule(source: string): string {
  blob ??= `export function neverCalled() {\n${source.replace(IMPORTS, "").replace(/export\{[^}]*\};?\s*$/, "")}\n}\n`;
  return blob;
}

/** The modules of the variant's isolate besides the entry ("handler.js" and what it imports). */
export function sdkSplitModules(variant: SdkSplitVariant): Record<string, string> {
  const [step, experiment] = variant.split("@");
  const sdk = PLATFORM_SDK[experiment === undefined ? "@aws-sdk/client-lambda" : `${EXPERIMENT}${experiment}`];
  if (sdk === undefined) throw new Error(`${variant}: that client-lambda build is not there (npm run sdk [-- --experiments])`);
  const client = (options: string, after = "") =>
    `import { LambdaClient } from "./client-lambda.js";\nlet client;\n` +
    `export const handler = async (event) => { if (client === undefined) { client = new LambdaClient(${options});${after} }\n  ${ECHO}, sdk: typeof client.send };\n};\n`;
  switch (step) {
    case "builtins": {
      const names = [...new Set([...sdk.matchAll(IMPORTS)].map(([, name]) => name!))];
      return { "handler.js": `${names.map((name, i) => `import * as b${i} from "${name}";`).join("\n")}\nexport const handler = async (event) => { ${ECHO}, n: [${names.map((_, i) => `b${i}`).join(", ")}].length };\n};\n` };
    }
    case "blob":
      return { "handler.js": `import { neverCalled } from "./blob.js";\nexport const handler = async (event) => { ${ECHO}, sdk: typeof neverCalled };\n};\n`, "blob.js": blobModule(sdk) };
    case "import":
      return { "handler.js": `import * as sdk from "./client-lambda.js";\nexport const handler = async (event) => { ${ECHO}, sdk: typeof sdk.LambdaClient };\n};\n`, "client-lambda.js": sdk };
    case "client":
      return { "handler.js": client("{}"), "client-lambda.js": sdk };
    case "explicit":
      return {
        "handler.js": client(`{ region: "us-east-1", credentials: { accessKeyId: "ASIABENCHSPLIT000000", secretAccessKey: "bench-split-secret", sessionToken: "bench-split-token" } }`),
        "client-lambda.js": sdk,
      };
    case "resolve":
      return {
        "handler.js": client("{}", " await client.config.region(); await client.config.credentials(); await client.config.endpoint?.();"),
        "client-lambda.js": sdk,
      };
    default:
      throw new Error(`no such variant ${variant}`);
  }
}

/** The variants this build can run: the steps, and `client@X` for each experimental build present. */
export function sdkSplitAvailable(): SdkSplitVariant[] {
  const experiments = Object.keys(PLATFORM_SDK).filter((name) => name.startsWith(EXPERIMENT)).map((name) => `client@${name.slice(EXPERIMENT.length)}` as const);
  return [...SDK_SPLIT_STEPS, ...experiments];
}

export function isSdkSplitVariant(value: string): value is SdkSplitVariant {
  return (SDK_SPLIT_STEPS as readonly string[]).includes(value) || /^client@[\w-]+$/.test(value);
}
