/**
 * Global setup of the e2e suites (vitest.e2e.config.ts). Each test file starts
 * its own platform in beforeAll (test/e2e/harness.ts), so this only checks
 * that the toolchain can run wrangler and fails early with a clear message.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const MIN_NODE = [22, 12, 0];
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

function atLeast(version: string, min: number[]): boolean {
  const have = version.replace(/^v/, "").split(".").map(Number);
  for (let i = 0; i < min.length; i++) {
    if ((have[i] ?? 0) !== min[i]) return (have[i] ?? 0) > min[i]!;
  }
  return true;
}

export default function setup(): void {
  const pinnedNode = path.join(ROOT, "node_modules", ".bin", "node");
  const wrangler = path.join(ROOT, "node_modules", ".bin", "wrangler");
  if (!existsSync(wrangler) || !existsSync(pinnedNode)) {
    throw new Error(
      "e2e: node_modules/.bin/wrangler or node_modules/.bin/node is missing. Run `npm install` (or `npm ci`) first.",
    );
  }
  // The harness runs wrangler with node_modules/.bin first on PATH, so what
  // matters is the pinned `node` devDependency; vitest itself may run on any Node.
  const pinnedVersion = execFileSync(pinnedNode, ["--version"], { encoding: "utf8" }).trim();
  if (!atLeast(pinnedVersion, MIN_NODE)) {
    throw new Error(
      `e2e: wrangler needs Node >= ${MIN_NODE.join(".")}, but node_modules/.bin/node is ${pinnedVersion}. ` +
        "Run `npm install` to get the pinned `node` devDependency, then `npm run test:e2e`.",
    );
  }
  if (!atLeast(process.versions.node, MIN_NODE)) {
    console.warn(
      `e2e: vitest is running on Node ${process.versions.node}; wrangler will use the pinned ${pinnedVersion}. ` +
        "Prefer `npm run test:e2e`, which runs everything on the pinned Node.",
    );
  }
}
