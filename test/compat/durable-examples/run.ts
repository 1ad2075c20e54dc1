/**
 * `npm run durable:examples`: the durable SDK's own examples and their own
 * tests, run against cellfn (issue 17). The examples package of
 * github.com/aws/aws-durable-execution-sdk-js (packages/aws-durable-execution-sdk-js-examples)
 * runs each test either with the local runner or, with NODE_ENV=integration,
 * with `CloudDurableTestRunner`, which invokes the deployed function through
 * LambdaClient and follows it with GetDurableExecutionHistory. This script:
 *
 *   1. fetches the examples' sources into .cache/durable-examples (a shallow
 *      clone of the repository, or DURABLE_EXAMPLES_GIT=<a git dir of it>
 *      when offline; DURABLE_EXAMPLES_REF picks the commit, default HEAD);
 *   2. boots cellfn with `wrangler dev` (test/e2e/harness.ts), bundles every
 *      example with esbuild from the installed `@aws/durable-execution-sdk-js`
 *      (as test/e2e/durable.e2e.test.ts does) and deploys it as the SDK's SAM
 *      template does (version 1, DurableConfig ExecutionTimeout 3600 s);
 *   3. runs the examples' tests in cloud mode with vitest (Jest globals,
 *      ./vitest.config.ts) with LAMBDA_ENDPOINT pointed at cellfn and
 *      FUNCTION_NAME_MAP naming version 1 of each function;
 *   4. prints the matrix (each test: pass / fail and the reason) and writes it
 *      to bench/results/durable-examples-<package|source>.json.
 *
 * DURABLE_EXAMPLES_SDK=source bundles the SDK from its source at the
 * examples' own commit instead of the installed package: the examples'
 * recorded histories belong to that SDK version, so a gap between the two
 * runs is the SDK's change, not cellfn's.
 *
 * Arguments are substrings of example names to run a subset
 * (`npm run durable:examples -- wait-for-callback step`).
 * EXAMPLES_CONCURRENCY sets how many test files run at once (default 3).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CreateFunctionCommand } from "@aws-sdk/client-lambda";
import { build } from "esbuild";
import { createTenantWithKey, lambdaClient, ROOT, startPlatform, untilActive } from "../../e2e/harness";
import { zip } from "../runner";

const REPO_URL = "https://github.com/aws/aws-durable-execution-sdk-js.git";
const EXAMPLES_PKG = "packages/aws-durable-execution-sdk-js-examples";
const SDK_PKG = "packages/aws-durable-execution-sdk-js";
/** "package" (default): the installed @aws/durable-execution-sdk-js; "source": the SDK's source at the examples' own commit. */
const SDK_FROM = process.env.DURABLE_EXAMPLES_SDK === "source" ? "source" : "package";
const WORK = path.join(ROOT, ".cache", "durable-examples");
const RESULTS = path.join(ROOT, "bench", "results", "durable-examples.json");
const ROLE = "arn:aws:iam::123456789012:role/durable-examples";
/** The SDK's generate-sam-template.js: 60 s per invocation, more for two examples; every function durable for an hour. */
const FUNCTION_TIMEOUT_S: Record<string, number> = { "steps-with-retry": 300, "wait-for-callback-submitter-retry-success": 120 };
const DURABLE_CONFIG = { ExecutionTimeout: 3600, RetentionPeriodInDays: 7 };
const DEPLOY_CONCURRENCY = 4;

interface Example {
  name: string;
  file: string;
  durable: boolean;
}

interface Row {
  file: string;
  test: string;
  status: "passed" | "failed";
  reason?: string;
}

/** Writes the examples package's src/ into WORK/src, file by file, skipping blobs the git dir lacks (listed). */
function fetchSources(): string[] {
  const ref = process.env.DURABLE_EXAMPLES_REF ?? "HEAD";
  let gitDir = process.env.DURABLE_EXAMPLES_GIT;
  if (!gitDir) {
    const clone = path.join(ROOT, ".cache", "aws-durable-execution-sdk-js");
    if (!existsSync(clone)) execFileSync("git", ["clone", "--depth", "1", REPO_URL, clone], { stdio: "inherit" });
    gitDir = path.join(clone, ".git");
  }
  const git = (...args: string[]) => execFileSync("git", ["--git-dir", gitDir, ...args], { maxBuffer: 64 * 1024 * 1024, stdio: ["ignore", "pipe", "ignore"] });
  rmSync(path.join(WORK, "src"), { recursive: true, force: true });
  rmSync(path.join(WORK, "sdk"), { recursive: true, force: true });
  const list = (pkg: string) => git("ls-tree", "-r", "--name-only", ref, `${pkg}/src`).toString().split("\n").filter(Boolean);
  const files = [...list(EXAMPLES_PKG), ...list(SDK_PKG)];
  const missing: string[] = [];
  for (const file of files) {
    const out = file.startsWith(`${SDK_PKG}/`) ? path.join(WORK, "sdk", file.slice(SDK_PKG.length + 1)) : path.join(WORK, file.slice(EXAMPLES_PKG.length + 1));
    mkdirSync(path.dirname(out), { recursive: true });
    try {
      writeFileSync(out, git("show", `${ref}:${file}`));
    } catch {
      missing.push(file);
    }
  }
  process.stdout.write(`SDK bundled from ${SDK_FROM === "source" ? "its source at the same commit" : "the installed package"}; examples from ${gitDir} at ${git("rev-parse", ref).toString().trim()} (${files.length} files${missing.length ? `, ${missing.length} missing from that copy` : ""})\n`);
  return missing;
}

/** Every example handler (a .ts under src/examples that is not a test), by file name, as the SAM template names them. */
function examples(filters: string[]): Example[] {
  const out: Example[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".ts") && !entry.name.includes(".test.")) {
        const name = entry.name.slice(0, -3);
        out.push({ name, file: full, durable: !/durableConfig:\s*null/.test(readFileSync(full, "utf8")) });
      }
    }
  };
  walk(path.join(WORK, "src", "examples"));
  return out.filter((e) => filters.length === 0 || filters.some((f) => e.name.includes(f))).sort((a, b) => a.name.localeCompare(b.name));
}

async function bundle(file: string): Promise<Uint8Array> {
  const alias = SDK_FROM === "source" ? { alias: { "@aws/durable-execution-sdk-js": path.join(WORK, "sdk", "src", "index.ts") } } : {};
  // tsconfigRaw: the examples' own compiler settings, not cellfn's (its verbatimModuleSyntax would keep the SDK source's type-only imports).
  const out = await build({ entryPoints: [file], bundle: true, platform: "node", format: "cjs", target: "node22", write: false, logLevel: "silent", tsconfigRaw: {}, ...alias });
  return out.outputFiles[0]?.contents ?? new Uint8Array();
}

async function inBatches<T>(items: T[], size: number, each: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(each));
}

/** Why a test failed: the first line that is not a stack frame, and the lines of the expected/received diff (without ANSI colours). */
function reasonOf(messages: string[] | undefined): string {
  // eslint-disable-next-line no-control-regex
  const lines = (messages ?? []).join("\n").replace(/\u001b\[[0-9;]*m/g, "").split("\n");
  const first = lines.find((l) => l.trim() !== "" && !l.trim().startsWith("at ")) ?? "failed";
  const diff = lines.filter((l) => /^\s*[+-] /.test(l)).map((l) => l.trim());
  return [first.trim().slice(0, 160), ...diff.slice(0, 8).map((l) => l.slice(0, 160))].join(" | ");
}

async function main(): Promise<void> {
  const filters = process.argv.slice(2);
  mkdirSync(WORK, { recursive: true });
  const missing = fetchSources();
  const list = examples(filters);
  const platform = await startPlatform();
  const rows: Row[] = [];
  try {
    const tenant = await createTenantWithKey(platform, "durable-examples");
    const lambda = lambdaClient(platform, tenant, { maxAttempts: 3 });
    const names: Record<string, string> = {};
    const notDeployed: Row[] = [];
    await inBatches(list, DEPLOY_CONCURRENCY, async (example) => {
      try {
        const code = await bundle(example.file);
        await lambda.send(new CreateFunctionCommand({
          FunctionName: example.name,
          Runtime: "nodejs22.x",
          Role: ROLE,
          Handler: "index.handler",
          Code: { ZipFile: zip(new Map([["index.js", code]])) },
          Timeout: FUNCTION_TIMEOUT_S[example.name] ?? 60,
          MemorySize: 128,
          Publish: true,
          ...(example.durable ? { DurableConfig: DURABLE_CONFIG } : {}),
        }));
        await untilActive(lambda, example.name);
        names[example.name] = example.durable ? `${example.name}:1` : example.name;
      } catch (err) {
        notDeployed.push({ file: example.name, test: "(deploy)", status: "failed", reason: `not deployed: ${String(err).split("\n")[0]?.slice(0, 200)}` });
      }
    });
    process.stdout.write(`deployed ${Object.keys(names).length} of ${list.length} examples to ${platform.url}\n`);
    rows.push(...notDeployed);

    const report = path.join(WORK, "vitest-report.json");
    rmSync(report, { force: true });
    // The JSON report for the matrix; the default reporter's output (with the expected/received diffs) in vitest.log.
    const vitestArgs = ["run", "--config", path.join(ROOT, "test", "compat", "durable-examples", "vitest.config.ts"), "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...filters];
    const log = openSync(path.join(WORK, "vitest.log"), "w");
    await new Promise<void>((resolve) => {
      const child = spawn(path.join(ROOT, "node_modules", ".bin", "vitest"), vitestArgs, {
        cwd: ROOT,
        stdio: ["ignore", log, log],
        env: {
          ...process.env,
          NODE_ENV: "integration",
          LAMBDA_ENDPOINT: platform.url,
          FUNCTION_NAME_MAP: JSON.stringify(names),
          AWS_ACCESS_KEY_ID: tenant.accessKeyId,
          AWS_SECRET_ACCESS_KEY: tenant.secretAccessKey,
          AWS_REGION: "us-east-1",
        },
      });
      child.on("exit", () => resolve());
    });
    const parsed = JSON.parse(readFileSync(report, "utf8")) as {
      testResults: { name: string; status: string; message?: string; assertionResults: { fullName: string; status: string; failureMessages?: string[] }[] }[];
    };
    for (const file of parsed.testResults) {
      const rel = path.relative(path.join(WORK, "src", "examples"), file.name);
      const ran = file.assertionResults.filter((a) => a.status === "passed" || a.status === "failed");
      if (ran.length === 0 && file.status === "failed") rows.push({ file: rel, test: "(file)", status: "failed", reason: reasonOf([file.message ?? ""]) });
      for (const a of ran) rows.push({ file: rel, test: a.fullName, status: a.status as Row["status"], ...(a.status === "failed" ? { reason: reasonOf(a.failureMessages) } : {}) });
    }
  } finally {
    await platform.stop();
  }

  const passed = rows.filter((r) => r.status === "passed").length;
  const width = Math.min(90, Math.max(...rows.map((r) => `${r.file} › ${r.test}`.length)));
  for (const r of rows) process.stdout.write(`${r.status === "passed" ? "pass" : "FAIL"}  ${`${r.file} › ${r.test}`.padEnd(width)}${r.reason ? `  ${r.reason}` : ""}\n`);
  process.stdout.write(`\n${passed} of ${rows.length} cloud-mode example tests passed against cellfn\n`);
  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS.replace(".json", `-${SDK_FROM}.json`), `${JSON.stringify({ date: new Date().toISOString(), sdk: SDK_FROM, filters, missingSources: missing, passed, total: rows.length, rows }, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
