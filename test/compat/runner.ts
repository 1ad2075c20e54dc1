/**
 * The compatibility suite's machinery (run by scripts/compat.ts, `npm run
 * compat`): installs the pinned fixture packages when missing, zips each case
 * with the packages it names (and their dependencies), deploys it to a
 * platform through the real AWS SDK, invokes it, runs the same files in plain
 * Node 22, and judges the outcome.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CreateFunctionCommand, DeleteFunctionCommand, InvokeCommand, type LambdaClient, waitUntilFunctionActiveV2 } from "@aws-sdk/client-lambda";
import { zipSync } from "fflate";
import type { CompatCase, CompatContext, Outcome } from "./case";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const FIXTURES = path.join(HERE, "fixtures");
const NODE_MODULES = path.join(FIXTURES, "node_modules");
const ROOT = path.resolve(HERE, "..", "..");
const NODE22 = path.join(ROOT, "node_modules", ".bin", "node");
const ROLE = "arn:aws:iam::123456789012:role/compat";
/** node-harness.mjs prints the outcome on a line of its own after this. */
const OUTCOME_MARK = "@@cellfn-compat-outcome@@";

/** `npm install` in the fixtures folder, once (the packages are pinned there; npm's cache keeps it fast). */
export function ensureFixtures(): void {
  const manifest = path.join(FIXTURES, "package.json");
  const marker = path.join(NODE_MODULES, ".package-lock.json");
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(manifest).mtimeMs) return;
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: FIXTURES, stdio: "inherit" });
}

/** Every case of every file in test/compat/cases/. */
export async function loadCases(): Promise<CompatCase[]> {
  const dir = path.join(HERE, "cases");
  const all: CompatCase[] = [];
  for (const file of readdirSync(dir).filter((f) => /\.[cm]?[jt]s$/.test(f)).sort()) {
    const module = (await import(pathToFileURL(path.join(dir, file)).href)) as { cases?: CompatCase[] };
    all.push(...(module.cases ?? []));
  }
  return all;
}

/** The case's files plus node_modules/<package> for each package it names and their dependencies. */
export function caseFiles(testCase: CompatCase): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const [name, content] of Object.entries(testCase.files)) {
    files.set(name, typeof content === "string" ? new TextEncoder().encode(content) : content);
  }
  const seen = new Set<string>();
  const pending = [...(testCase.packages ?? [])];
  while (pending.length > 0) {
    const [name = "", zipName = name] = (pending.pop() as string).split(" as ");
    if (seen.has(zipName)) continue;
    seen.add(zipName);
    const dir = path.join(NODE_MODULES, name);
    if (!existsSync(dir)) continue; // an optional dependency npm did not install
    addTree(files, dir, `node_modules/${zipName}`);
    // Dependencies of the package and of the packages nested in it (npm nests a version that clashes with the hoisted one).
    for (const manifestPath of manifests(dir)) {
      const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as Record<string, Record<string, string> | undefined>;
      pending.push(...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {}));
    }
  }
  return files;
}

/** package.json of a package folder and of every package under its node_modules. */
function manifests(dir: string): string[] {
  const found = [path.join(dir, "package.json")];
  const nested = path.join(dir, "node_modules");
  if (!existsSync(nested)) return found;
  for (const entry of readdirSync(nested, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    const scoped = entry.name.startsWith("@") ? readdirSync(path.join(nested, entry.name)).map((n) => path.join(nested, entry.name, n)) : [path.join(nested, entry.name)];
    for (const pkg of scoped) if (existsSync(path.join(pkg, "package.json"))) found.push(...manifests(pkg));
  }
  return found;
}

function addTree(files: Map<string, Uint8Array>, dir: string, zipDir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) addTree(files, full, `${zipDir}/${entry.name}`);
    else if (entry.isFile()) files.set(`${zipDir}/${entry.name}`, readFileSync(full));
  }
}

export function zip(files: Map<string, Uint8Array>): Uint8Array {
  const mtime = new Date("2024-01-01T00:00:00Z");
  return zipSync(Object.fromEntries([...files].map(([name, data]) => [name, [data, { mtime }]])), { level: 6, mtime });
}

const eventOf = (testCase: CompatCase, ctx: CompatContext) => (typeof testCase.event === "function" ? testCase.event(ctx) : testCase.event ?? {});

/**
 * The same files and event in plain Node 22 (a temporary directory standing
 * in for /var/task). Asynchronous: the case may call the suite's own HTTP server.
 */
export async function runInNode(testCase: CompatCase, ctx: CompatContext): Promise<Outcome> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "cellfn-compat-"));
  try {
    for (const [name, data] of caseFiles(testCase)) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), data);
    }
    const args = [path.join(HERE, "node-harness.mjs"), dir, testCase.handler ?? "index.handler", JSON.stringify(eventOf(testCase, ctx))];
    const env = { ...process.env, ...testCase.environment };
    const child = spawn(NODE22, args, { stdio: ["ignore", "pipe", "pipe"], timeout: 30_000, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise((resolve) => child.on("close", resolve));
    const line = stdout.split("\n").find((l) => l.startsWith(OUTCOME_MARK)) ?? "";
    try {
      return JSON.parse(line.slice(OUTCOME_MARK.length)) as Outcome;
    } catch {
      return { value: { errorType: "Harness", errorMessage: (stderr || stdout).slice(0, 500) }, functionError: "Harness" };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Deploys the case as a function, invokes it once, deletes it. */
export async function runOnCellfn(lambda: LambdaClient, testCase: CompatCase, ctx: CompatContext, index: number): Promise<Outcome> {
  const name = `compat-${index}-${testCase.name.replace(/[^A-Za-z0-9-]+/g, "-").slice(0, 40)}`;
  try {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Role: ROLE,
        Runtime: testCase.runtime ?? "nodejs22.x",
        Handler: testCase.handler ?? "index.handler",
        Code: { ZipFile: zip(caseFiles(testCase)) },
        Timeout: 10,
        ...(testCase.environment ? { Environment: { Variables: testCase.environment } } : {}),
        ...(testCase.logging ? { LoggingConfig: testCase.logging } : {}),
      }),
    );
    // The code is bundled after CreateFunction answers: wait for Active, as a deploy script does.
    await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { FunctionName: name });
  } catch (error) {
    const e = error as Error;
    return { value: { errorType: `CreateFunction: ${e.name}`, errorMessage: e.message }, functionError: "Deploy" };
  }
  try {
    const payload = new TextEncoder().encode(JSON.stringify(eventOf(testCase, ctx)));
    const result = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: payload, LogType: "Tail" }));
    const text = new TextDecoder().decode(result.Payload);
    const log = result.LogResult === undefined ? undefined : Buffer.from(result.LogResult, "base64").toString("utf8");
    return {
      value: text === "" ? null : (JSON.parse(text) as unknown),
      ...(result.FunctionError ? { functionError: result.FunctionError } : {}),
      ...(log === undefined ? {} : { log }),
    };
  } finally {
    await lambda.send(new DeleteFunctionCommand({ FunctionName: name })).catch(() => undefined);
  }
}

/** undefined when the case passes, else why not. */
export function judge(testCase: CompatCase, cellfn: Outcome, node: Outcome | undefined): string | undefined {
  if (testCase.expect !== "node") return testCase.expect(cellfn, node);
  if (node === undefined) return "no Node answer to compare with";
  const a = JSON.stringify({ ...cellfn, log: undefined });
  const b = JSON.stringify(node);
  return a === b ? undefined : `cellfn ${a.slice(0, 300)} ≠ node ${b.slice(0, 300)}`;
}
