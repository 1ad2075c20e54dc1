import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * D1 schema. `drizzle-kit generate` turns this into migrations/NNNN_*.sql,
 * which wrangler applies (`wrangler d1 migrations apply`). Every table but
 * `tenants` is keyed by tenant id first, and only the
 * tenant-scoped repository (src/data/) reads or writes them.
 */

export const tenants = sqliteTable("tenants", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  /** 12 digits, used in ARNs. */
  accountId: text("account_id").notNull().unique(),
  cell: integer("cell").notNull(),
  concurrencyLimit: integer("concurrency_limit").notNull().default(1000),
  createdAt: text("created_at").notNull(),
});

export const apiKeys = sqliteTable(
  "api_keys",
  {
    accessKeyId: text("access_key_id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    scope: text("scope", { enum: ["full", "invoke"] }).notNull(),
    /** Per-key salt the secret is derived from (see src/auth/keys.ts). */
    secretSalt: text("secret_salt").notNull(),
    /** SHA-256 of the secret, for the bearer form. The secret itself is never stored. */
    secretHash: text("secret_hash").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("api_keys_tenant").on(t.tenantId)],
);

export const functions = sqliteTable(
  "functions",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** null: no reservation; 0: every invoke is throttled. */
    reservedConcurrency: integer("reserved_concurrency"),
    /** Highest version number ever published (versions are never reused). */
    lastVersion: integer("last_version").notNull().default(0),
    createdAt: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.name] })],
);

/**
 * One row per function version; `$LATEST` is version_number 0. Published
 * versions are immutable snapshots of `$LATEST`.
 */
export const functionVersions = sqliteTable(
  "function_versions",
  {
    tenantId: text("tenant_id").notNull(),
    functionName: text("function_name").notNull(),
    version: text("version").notNull(),
    versionNumber: integer("version_number").notNull(),
    /** JSON: the stored FunctionConfig (src/lambda/function-config.ts). */
    config: text("config", { mode: "json" }).notNull(),
    codeSha256: text("code_sha256").notNull(),
    codeSize: integer("code_size").notNull(),
    /** R2 key of the bundled handler (content addressed). */
    bundleKey: text("bundle_key").notNull(),
    revisionId: text("revision_id").notNull(),
    lastModified: text("last_modified").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.functionName, t.version] }),
    index("function_versions_order").on(t.tenantId, t.functionName, t.versionNumber),
    // Bundles are shared across tenants; this finds whether one is still used.
    index("function_versions_bundle").on(t.bundleKey),
  ],
);

export const aliases = sqliteTable(
  "aliases",
  {
    tenantId: text("tenant_id").notNull(),
    functionName: text("function_name").notNull(),
    name: text("name").notNull(),
    functionVersion: text("function_version").notNull(),
    description: text("description").notNull().default(""),
    /** JSON: {"<version>": weight} or null. */
    additionalVersionWeights: text("additional_version_weights", { mode: "json" }).$type<Record<
      string,
      number
    > | null>(),
    revisionId: text("revision_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.functionName, t.name] })],
);
