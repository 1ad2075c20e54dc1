import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Unit and integration suites run inside workerd with the real D1, R2 and
// Worker Loader bindings from wrangler.toml. Migrations are read here (Node
// side) and applied once per test worker in test/setup/apply-migrations.ts.
const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: migrations,
          ADMIN_TOKEN: "test-admin-token",
          KEY_DERIVATION_SECRET: "test-key-derivation-secret",
          ALLOW_PRIVATE_EGRESS: "true",
          // Async retries wait 1 then 2 of these units: seconds, not minutes, in tests.
          ASYNC_RETRY_UNIT_SECONDS: "1",
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.unit.test.ts", "test/**/*.integration.test.ts"],
    setupFiles: ["./test/setup/apply-migrations.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
