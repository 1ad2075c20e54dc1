// Builds the AWS SDK v3 that cellfn preinstalls for functions, as Lambda's
// nodejs18.x+ runtimes do: each @aws-sdk/* client in this project's
// node_modules (see PLATFORM_SDK_PACKAGES) pre-bundled into one minified ES
// module, written to src/code/platform-sdk.generated.ts (gitignored). The
// bundler (src/code/bundler.ts) bundles one into a function only when the
// function imports it and its zip does not ship its own copy.
// Runs on `npm install` (postinstall); `npm run sdk` reruns it. Flags:
// --analyze (what each module is made of), --shake-sizes (tree-shaking
// sizes, writes nothing), --shaken-experiment (adds bench/cold.ts's
// @aws-sdk/x-shaken-lambda; rerun `npm run sdk` after).
import { existsSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { builtinModules, createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT = process.env.SDK_OUT ?? path.join(ROOT, "src", "code", "platform-sdk.generated.ts");
const require = createRequire(path.join(ROOT, "package.json"));

/** The clients (and document client) offered, when installed. */
const PLATFORM_SDK_PACKAGES = [
  "@aws-sdk/client-lambda", "@aws-sdk/client-sqs", "@aws-sdk/client-s3", "@aws-sdk/client-dynamodb", "@aws-sdk/lib-dynamodb",
  "@aws-sdk/client-sns", "@aws-sdk/client-kinesis", "@aws-sdk/client-cloudwatch-logs", "@aws-sdk/client-eventbridge",
  "@aws-sdk/client-secrets-manager", "@aws-sdk/client-ssm", "@aws-sdk/client-sts",
];

const BUILTINS = new Set(builtinModules);
/**
 * Node built-ins stay imports (`import * as ns from "node:x"`), so cellfn's
 * bundler maps them as it maps the function's own (fs → /var/task and /tmp);
 * a require() of one gets the built-in's default export, as in Node.
 * With `direct` (experiment, issue 11) an `import` statement of one is left as
 * written (`import { x } from "node:x"`) instead of going through the wrapper
 * module, whose `export *` makes esbuild copy the built-in's properties into a
 * namespace of its own at load (~800 getters for client-lambda). Measured
 * through cellfn it was not cheaper (README, "Cold start": where the SDK's
 * cost goes), so the wrapper stays.
 */
const DIRECT_BUILTINS = process.env.SDK_DIRECT_BUILTINS === "1";
const builtinsAsImports = (direct = DIRECT_BUILTINS) => ({
  name: "builtins-as-imports",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      const name = args.path.replace(/^node:/, "");
      if (!BUILTINS.has(name) && !args.path.startsWith("node:")) return undefined;
      if (args.namespace === "builtin-esm") return { path: `node:${name}`, external: true };
      if (direct && args.kind === "import-statement") return { path: `node:${name}`, external: true };
      if (args.kind === "require-call" && args.namespace !== "builtin-cjs") return { path: name, namespace: "builtin-cjs" };
      return { path: name, namespace: "builtin-esm" };
    });
    b.onLoad({ filter: /.*/, namespace: "builtin-cjs" }, ({ path: name }) => ({ contents: `module.exports = require("node:${name}").default;`, loader: "js" }));
    b.onLoad({ filter: /.*/, namespace: "builtin-esm" }, ({ path: name }) => ({
      contents: `import * as ns from "node:${name}";\nexport * from "node:${name}";\nexport default Reflect.has(ns, "default") ? Reflect.get(ns, "default") : ns;\n`,
      loader: "js",
    }));
  },
});
/** Class and function names as in Lambda's copy (error names, constructor.name); SDK_KEEP_NAMES=0 drops them (experiment: no cheaper, measured). */
const KEEP_NAMES = process.env.SDK_KEEP_NAMES !== "0";
const MINIFY_IDENTIFIERS = process.env.SDK_MINIFY_IDENTIFIERS !== "0";

/**
 * Lambda's default credential chain (@aws-sdk/credential-provider-node) after
 * the environment: SSO, shared ini files, credential_process, web identity
 * token files, container and instance metadata. None can answer in a
 * function's isolate (no home directory, no child processes, no metadata
 * service; the SDK's `fs` is workerd's, not /var/task): cellfn puts the
 * function's credentials in the environment, as Lambda does. Their packages
 * (and the STS/SSO/sign-in clients they carry) were ~30 % of every client's
 * module, compiled at each cold start; here each is a provider that declines
 * (CredentialsProviderError, tryNextLink), so the SDK's own chain runs as
 * written (AWS_PROFILE handling, its final "Could not load credentials from
 * any providers" error) with only the environment link able to answer.
 */
const UNAVAILABLE_IN_ISOLATE = /^(@aws-sdk\/credential-provider-(sso|ini|process|web-identity|http|login)|@smithy\/credential-provider-imds)$/;
const nodeOnlyCredentials = {
  name: "node-only-credentials",
  setup(b) {
    // One module for all of them (what the SDK destructures from each, declining).
    b.onResolve({ filter: UNAVAILABLE_IN_ISOLATE }, () => ({ path: "node-only-providers", namespace: "unavailable-in-isolate" }));
    b.onLoad({ filter: /.*/, namespace: "unavailable-in-isolate" }, () => ({
      loader: "js",
      resolveDir: ROOT,
      contents: `import { CredentialsProviderError } from "@smithy/core/config";
const declining = (provider) => (init) => async () => {
  throw new CredentialsProviderError(provider + " is not available in a cellfn function (credentials come from the environment)", { logger: init?.logger, tryNextLink: true });
};
export const fromSSO = declining("fromSSO"), fromIni = declining("fromIni"), fromProcess = declining("fromProcess");
export const fromTokenFile = declining("fromTokenFile"), fromWebToken = declining("fromWebToken"), fromHttp = declining("fromHttp");
export const fromContainerMetadata = declining("fromContainerMetadata"), fromInstanceMetadata = declining("fromInstanceMetadata");
export const fromLoginCredentials = declining("fromLoginCredentials");
export const ENV_CMDS_FULL_URI = "AWS_CONTAINER_CREDENTIALS_FULL_URI", ENV_CMDS_RELATIVE_URI = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
`,
    }));
  },
};

/**
 * `await import("x")` inside the SDK, for modules every client loads anyway
 * (Node built-ins, @smithy/core's submodules) or the declining providers
 * above, becomes a static import. Without code splitting esbuild turns a
 * dynamic import into a lazy initialiser around the target and everything it
 * imports, which made most of the client (491 modules of client-lambda) code
 * that V8 parses twice: pre-parsed at compile, parsed again when called. Other
 * dynamic imports are left as written.
 */
const HOISTABLE = (specifier) =>
  specifier.startsWith("node:") || BUILTINS.has(specifier) || specifier.startsWith("@smithy/core/") || UNAVAILABLE_IN_ISOLATE.test(specifier);
const DYNAMIC_IMPORT = /\bimport\((["'])([^"'\s]+)\1\)/g;
const staticImports = {
  name: "static-imports",
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/].*\.m?js$/ }, async ({ path: file }) => {
      const text = await readFile(file, "utf8");
      if (!text.includes("import(")) return undefined;
      const hoisted = [];
      const contents = text.replace(DYNAMIC_IMPORT, (call, _quote, specifier) => {
        if (!HOISTABLE(specifier)) return call;
        hoisted.push(`import * as __cellfn_import_${hoisted.length} from ${JSON.stringify(specifier)};\n`);
        return `Promise.resolve(__cellfn_import_${hoisted.length - 1})`;
      });
      if (hoisted.length === 0) return undefined;
      return { contents: hoisted.join("") + contents, loader: "js", resolveDir: path.dirname(file) };
    });
  },
};

/**
 * A preinstalled package that imports another (lib-dynamodb → client-dynamodb)
 * imports the other's module, `./client-dynamodb.js` beside it, as Lambda's
 * copy in /var/runtime/node_modules resolves its sibling: one DynamoDBClient
 * class, and a document-client function compiles ~55 KB more, not a second
 * copy of the client (~240 KB). src/code/platform-modules.ts puts the peer
 * beside the bundle too.
 */
const peersOf = (name, installed) => ({
  name: "platform-peers",
  setup(b) {
    b.onResolve({ filter: /^@aws-sdk\/[\w.-]+$/ }, (args) =>
      args.path !== name && installed.has(args.path) ? { path: `./${args.path.slice("@aws-sdk/".length)}.js`, external: true } : undefined);
  },
});
const installed = new Set(PLATFORM_SDK_PACKAGES.filter((name) => {
  try {
    return existsSync(require.resolve(name));
  } catch {
    return false; // not installed: not offered
  }
}));

/** `npm run sdk -- --analyze`: what each client's module is made of (the 25 largest inputs). */
const ANALYZE = process.argv.includes("--analyze");
function largestInputs(metafile) {
  const inputs = Object.values(metafile.outputs)[0].inputs;
  return Object.entries(inputs)
    .sort((p, q) => q[1].bytesInOutput - p[1].bytesInOutput)
    .slice(0, 25)
    .map(([file, { bytesInOutput }]) => `${(bytesInOutput / 1024).toFixed(1).padStart(7)} KB  ${file.replace(/^.*node_modules\//, "")}`)
    .join("\n");
}

/** One pre-bundled module of `contents` (an entry importing from the installed packages), as the platform ships it. */
async function bundleOf(contents, name, metafile = false, peers = true, { keepNames = KEEP_NAMES, minifyIdentifiers = MINIFY_IDENTIFIERS, direct = DIRECT_BUILTINS } = {}) {
  return build({
    stdin: { contents, resolveDir: ROOT, loader: "js" },
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    // The ES builds (dist-es): static named exports, so `import { LambdaClient }` links.
    mainFields: ["module", "main"],
    target: "es2022",
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers,
    keepNames,
    legalComments: "none",
    logLevel: "error",
    plugins: [...(peers ? [peersOf(name, installed)] : []), nodeOnlyCredentials, staticImports, builtinsAsImports(direct)],
    metafile,
  });
}

/**
 * `npm run sdk -- --shake-sizes` (issue 11): how much of a client a handler
 * importing a few names needs, tree-shaken from the SDK's sources (the
 * document client with its own DynamoDBClient) and from the platform's
 * pre-bundle(s). Writes nothing.
 */
const SHAKE_CASES = [
  ["LambdaClient", "@aws-sdk/client-lambda", ["LambdaClient"]],
  ["LambdaClient + InvokeCommand", "@aws-sdk/client-lambda", ["LambdaClient", "InvokeCommand"]],
  ["SQSClient + SendMessageCommand", "@aws-sdk/client-sqs", ["SQSClient", "SendMessageCommand"]],
  ["DynamoDBDocumentClient + GetCommand", "@aws-sdk/lib-dynamodb", ["DynamoDBDocumentClient", "GetCommand"]],
];
if (process.argv.includes("--shake-sizes")) {
  const kb = (text) => `${(text.length / 1024).toFixed(0)} KB`;
  const whole = {};
  for (const name of installed) whole[name] = (await bundleOf(`export * from ${JSON.stringify(name)};`, name)).outputFiles[0].text;
  const fromPreBundle = (names, name) => ({
    name: "from-pre-bundle",
    setup(b) {
      b.onResolve({ filter: /^@aws-sdk\/|^\.\/[\w.-]+\.js$/ }, (args) => {
        const pkg = args.path.startsWith("./") ? `@aws-sdk/${args.path.slice(2, -3)}` : args.path;
        return whole[pkg] === undefined ? undefined : { path: pkg, namespace: "pre-bundle" };
      });
      b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, external: true }));
      b.onLoad({ filter: /.*/, namespace: "pre-bundle" }, (args) => ({ contents: whole[args.path], loader: "js", resolveDir: ROOT }));
    },
  });
  console.log("imports | whole module(s) | shaken from the sources | shaken from the pre-bundle");
  for (const [label, name, names] of SHAKE_CASES) {
    if (!installed.has(name)) continue;
    const entry = `export { ${names.join(", ")} } from ${JSON.stringify(name)};`;
    const sources = (await bundleOf(entry, name, false, false)).outputFiles[0].text;
    const pre = await build({
      stdin: { contents: entry, resolveDir: ROOT, loader: "js" }, bundle: true, write: false, format: "esm", platform: "neutral",
      target: "es2022", minify: true, keepNames: KEEP_NAMES, logLevel: "error", plugins: [fromPreBundle()],
    });
    const wholeText = name === "@aws-sdk/lib-dynamodb" ? whole[name] + whole["@aws-sdk/client-dynamodb"] : whole[name];
    console.log(`${label} | ${kb(wholeText)} | ${kb(sources)} | ${kb(pre.outputFiles[0].text)}`);
  }
  process.exit(0);
}

const modules = {};
for (const name of installed) {
  const result = await bundleOf(`export * from ${JSON.stringify(name)};`, name, ANALYZE);
  if (ANALYZE) console.log(`${name}\n${largestInputs(result.metafile)}`);
  modules[name] = result.outputFiles[0].text;
}
/**
 * `npm run sdk -- --shaken-experiment` (issue 11, bench only): one more
 * package, `@aws-sdk/x-shaken-lambda`, client-lambda tree-shaken to
 * `LambdaClient`: the best a per-function tree-shaken module could do for
 * bench/cold.ts's (d-sdk) handler (its row (d-sdk-shaken)). Run `npm run sdk` after.
 */
if (process.argv.includes("--shaken-experiment") && installed.has("@aws-sdk/client-lambda")) {
  modules["@aws-sdk/x-shaken-lambda"] = (await bundleOf('export { LambdaClient } from "@aws-sdk/client-lambda";', "@aws-sdk/client-lambda")).outputFiles[0].text;
}

/**
 * `npm run sdk -- --experiments` (issue 11, bench only): client-lambda built
 * other ways, as `@aws-sdk/x-exp-<name>`, for bench/cold.ts's rows in the same
 * interleaved run (BENCH_SDK_VARIANTS=split; (d-sdk-before) through cellfn).
 * Run `npm run sdk` after.
 */
const EXPERIMENTS = {
  before: { keepNames: true, minifyIdentifiers: true, direct: false }, // the default build (an A/A check)
  direct: { keepNames: true, minifyIdentifiers: true, direct: true },
  nokeep: { keepNames: false, minifyIdentifiers: true, direct: true },
  plain: { keepNames: false, minifyIdentifiers: false, direct: true },
};
if (process.argv.includes("--experiments") && installed.has("@aws-sdk/client-lambda")) {
  for (const [experiment, options] of Object.entries(EXPERIMENTS)) {
    modules[`@aws-sdk/x-exp-${experiment}`] = (await bundleOf('export * from "@aws-sdk/client-lambda";', "@aws-sdk/client-lambda", false, true, options)).outputFiles[0].text;
  }
}

const body = Object.entries(modules).map(([name, text]) => `  ${JSON.stringify(name)}: ${JSON.stringify(text)},`).join("\n");
writeFileSync(
  OUT,
  "// Generated by scripts/build-platform-sdk.mjs (npm install / npm run sdk). Do not edit.\n" +
    "/** Preinstalled AWS SDK v3 packages: name → one pre-bundled ES module. */\n" +
    `export const PLATFORM_SDK: Readonly<Record<string, string>> = {\n${body}\n};\n`,
);
const sizes = Object.entries(modules).map(([n, t]) => `${n} ${(t.length / 1024).toFixed(0)} KB`);
console.log(`platform SDK: ${sizes.join(", ") || "none installed"}`);
