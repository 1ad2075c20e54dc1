import { defineConfig } from "vitest/config";

// End-to-end suites run in Node: they start `wrangler dev` on a free port and
// drive it with the real @aws-sdk/client-lambda, as a user would.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.test.ts"],
    globalSetup: ["./test/e2e/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
