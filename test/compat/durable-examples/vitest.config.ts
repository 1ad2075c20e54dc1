import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The SDK examples' own Jest tests (fetched by run.ts into .cache/durable-examples),
// run by vitest with Jest's globals, in their "cloud" mode only: each test's
// CloudDurableTestRunner invokes the function deployed on cellfn through
// LambdaClient (LAMBDA_ENDPOINT, FUNCTION_NAME_MAP set by run.ts), as the
// SDK repository's `npm run test:integration` does against AWS
// (jest.config.integration.js: testNamePattern "cloud", 120 s per test).
const HERE = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: path.resolve(HERE, "..", "..", "..", ".cache", "durable-examples"),
  test: {
    include: ["src/examples/**/*.test.ts"],
    globals: true,
    setupFiles: [path.join(HERE, "jest-globals.ts")],
    testNamePattern: "cloud",
    testTimeout: 120_000,
    hookTimeout: 120_000,
    maxWorkers: Number(process.env.EXAMPLES_CONCURRENCY ?? 3),
  },
});
