import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

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
  /** Set when an operator moved the tenant: placement no longer follows cellFor(). */
  cellPinned: integer("cell_pinned", { mode: "boolean" }).notNull().default(false),
  /** Bytes of code packages and layer archives the tenant may store (Lambda's 75 GB; src/lambda/quotas.ts). */
  codeStorageLimit: integer("code_storage_limit").notNull().default(80_530_636_800),
  /** Open Kinesis shards over all the tenant's streams (AWS's 500 in the large regions). */
  shardLimit: integer("shard_limit").notNull().default(500),
  /** Control-plane requests a second per API (Lambda's 15; GetFunction at least 100; src/lambda/quotas.ts). */
  apiRequestRate: integer("api_request_rate").notNull().default(15),
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
    /** JSON: the function's tags (TagResource / CreateFunction Tags); null when it has none. */
    tags: text("tags", { mode: "json" }).$type<Record<string, string> | null>(),
    /** PutFunctionRecursionConfig: `Terminate` (default) or `Allow` (src/invoke/recursion.ts). */
    recursiveLoop: text("recursive_loop").$type<"Terminate" | "Allow">().notNull().default("Terminate"),
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
    /**
     * Lambda's function state (src/lambda/function-state.ts): `Pending` while
     * CreateFunction's code is bundled after the response (bundle_key is then
     * empty and nothing may run), `Active` once it is stored, `Failed` when
     * bundling failed.
     */
    state: text("state", { enum: ["Pending", "Active", "Failed"] }).notNull().default("Active"),
    stateReason: text("state_reason"),
    stateReasonCode: text("state_reason_code"),
    /** null until the first create settles (CreateFunction's answer has none). */
    lastUpdateStatus: text("last_update_status", { enum: ["InProgress", "Successful", "Failed"] }).default("Successful"),
    lastUpdateStatusReason: text("last_update_status_reason"),
    lastUpdateStatusReasonCode: text("last_update_status_reason_code"),
    /**
     * JSON: what an update in progress will make of $LATEST (config, code
     * hash and size, LastModified). The row's own columns keep the code that
     * runs until the update succeeds, so invocations meanwhile run the
     * previous code, and a failed update leaves it in place.
     */
    pendingUpdate: text("pending_update", { mode: "json" }),
    /** Epoch ms when the current Pending / InProgress began (a transition that never finished is read as failed). */
    transitionStartedAt: integer("transition_started_at"),
    /**
     * Published versions: a digest of the $LATEST configuration and code they
     * were published from. PublishVersion with nothing changed since returns
     * the newest version instead of a copy; a Description given to
     * PublishVersion itself is not a change.
     */
    publishedFrom: text("published_from"),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.functionName, t.version] }),
    index("function_versions_order").on(t.tenantId, t.functionName, t.versionNumber),
    // Bundles and .zip packages are shared across tenants; these find whether one is still used.
    index("function_versions_bundle").on(t.bundleKey),
    index("function_versions_code").on(t.codeSha256),
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

/** Asynchronous invocation settings per function version or alias (`$LATEST` when unqualified). */
export const eventInvokeConfigs = sqliteTable(
  "event_invoke_configs",
  {
    tenantId: text("tenant_id").notNull(),
    functionName: text("function_name").notNull(),
    qualifier: text("qualifier").notNull(),
    maximumRetryAttempts: integer("maximum_retry_attempts"),
    maximumEventAgeInSeconds: integer("maximum_event_age_in_seconds"),
    onSuccess: text("on_success"),
    onFailure: text("on_failure"),
    /** Epoch seconds (the API returns a number here). */
    lastModified: real("last_modified").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.functionName, t.qualifier] })],
);

/**
 * One row per event accepted with 202: the poller's idempotency record. An
 * event whose row says `succeeded` or `failed` is acknowledged without
 * running again when the queue redelivers it.
 */
export const asyncEvents = sqliteTable(
  "async_events",
  {
    requestId: text("request_id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    functionName: text("function_name").notNull(),
    qualifier: text("qualifier"),
    status: text("status", { enum: ["queued", "succeeded", "failed"] }).notNull(),
    /** Handler runs so far (approximateInvokeCount). */
    invokeCount: integer("invoke_count").notNull().default(0),
    /**
     * The newest queue message of this event (each retry, backoff or move
     * sends message `attempt + 1`): an older copy the queue redelivers is
     * acknowledged without running.
     */
    attempt: integer("attempt").notNull().default(0),
    acceptedAt: integer("accepted_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /**
     * Local development only (ASYNC_QUEUES_VOLATILE): the newest queue message
     * as JSON, sent again after a restart lost it (src/async/volatile-queues.ts).
     */
    message: text("message"),
  },
  (t) => [index("async_events_function").on(t.tenantId, t.functionName), index("async_events_queued").on(t.status, t.updatedAt)],
);

/** Events that ended without success, with their invocation record: listable and redrivable. */
export const failedEvents = sqliteTable(
  "failed_events",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    functionName: text("function_name").notNull(),
    requestId: text("request_id").notNull(),
    condition: text("condition").notNull(),
    /** JSON: the Lambda invocation record (version, timestamp, requestContext, requestPayload, ...). */
    record: text("record", { mode: "json" }).notNull(),
    createdAt: integer("created_at").notNull(),
    redrivenAt: integer("redriven_at"),
  },
  (t) => [index("failed_events_function").on(t.tenantId, t.functionName, t.createdAt)],
);

/**
 * Resource-based policy statements (AddPermission), per function and
 * qualifier ("" for the unqualified function). The statement is stored as
 * AWS returns it (src/lambda/policy.ts builds it).
 */
export const policyStatements = sqliteTable(
  "policy_statements",
  {
    tenantId: text("tenant_id").notNull(),
    functionName: text("function_name").notNull(),
    qualifier: text("qualifier").notNull(),
    sid: text("sid").notNull(),
    /** JSON: the statement ({Sid, Effect, Principal, Action, Resource, Condition?}). */
    statement: text("statement", { mode: "json" }).notNull(),
    /** Epoch ms: statements are listed in the order they were added. */
    addedAt: integer("added_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.functionName, t.qualifier, t.sid] })],
);

/**
 * Provisioned concurrency per function alias or version (never `$LATEST`).
 * Only the requested amount is stored here; allocation and status belong to
 * the function's AssignmentPartition (src/invoke/provisioned-pool.ts).
 */
export const provisionedConcurrencyConfigs = sqliteTable(
  "provisioned_concurrency_configs",
  {
    tenantId: text("tenant_id").notNull(),
    functionName: text("function_name").notNull(),
    qualifier: text("qualifier").notNull(),
    requested: integer("requested").notNull(),
    /** AWS's string timestamp (`2019-09-24T18:32:46.742+0000`). */
    lastModified: text("last_modified").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.functionName, t.qualifier] })],
);

/**
 * Function URLs (CreateFunctionUrlConfig): at most one per function and
 * qualifier ("" for the unqualified function, else an alias name). `url_id`
 * is the random host label the URL is served under, unique across tenants:
 * the URL front door finds the owner from it (src/function-urls/serve.ts).
 */
export const functionUrls = sqliteTable(
  "function_urls",
  {
    urlId: text("url_id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    functionName: text("function_name").notNull(),
    qualifier: text("qualifier").notNull(),
    authType: text("auth_type", { enum: ["NONE", "AWS_IAM"] }).notNull(),
    /** JSON: the Cors object as given (null when the URL has none). */
    cors: text("cors", { mode: "json" }).$type<Record<string, unknown> | null>(),
    invokeMode: text("invoke_mode", { enum: ["BUFFERED", "RESPONSE_STREAM"] }).notNull(),
    /** Lambda's timestamp strings (`2019-09-24T18:32:46.742+0000`). */
    creationTime: text("creation_time").notNull(),
    lastModifiedTime: text("last_modified_time").notNull(),
  },
  (t) => [uniqueIndex("function_urls_target").on(t.tenantId, t.functionName, t.qualifier)],
);

/**
 * Published layer versions (PublishLayerVersion). Immutable once written; a
 * deleted version keeps its row (`deleted`), so functions that named it keep
 * building from it and its number is never given again, as on AWS. The .zip
 * is in R2 with function packages (`zips/<sha256>.zip`, src/data/code-store.ts).
 */
export const layerVersions = sqliteTable(
  "layer_versions",
  {
    tenantId: text("tenant_id").notNull(),
    layerName: text("layer_name").notNull(),
    version: integer("version").notNull(),
    description: text("description").notNull(),
    licenseInfo: text("license_info"),
    compatibleRuntimes: text("compatible_runtimes", { mode: "json" }).$type<string[] | null>(),
    compatibleArchitectures: text("compatible_architectures", { mode: "json" }).$type<string[] | null>(),
    codeSha256: text("code_sha256").notNull(),
    codeSize: integer("code_size").notNull(),
    /** Bytes of the unzipped contents: the 250 MB limit counts a function's layers. */
    unzippedSize: integer("unzipped_size").notNull(),
    createdDate: text("created_date").notNull(),
    deleted: integer("deleted", { mode: "boolean" }).notNull().default(false),
    /** RevisionId of the version's policy (changes with every Add/RemoveLayerVersionPermission). */
    policyRevisionId: text("policy_revision_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.layerName, t.version] }), index("layer_versions_code").on(t.codeSha256)],
);

/** Statements of a layer version's policy (AddLayerVersionPermission), in the order they were added. */
export const layerVersionStatements = sqliteTable(
  "layer_version_statements",
  {
    tenantId: text("tenant_id").notNull(),
    layerName: text("layer_name").notNull(),
    version: integer("version").notNull(),
    sid: text("sid").notNull(),
    /** JSON: the statement as AWS returns it (src/lambda/layers.ts). */
    statement: text("statement", { mode: "json" }).notNull(),
    /** The account id granted, or "*" (everyone): what a use by another tenant is checked against. */
    principal: text("principal").notNull(),
    addedAt: integer("added_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.layerName, t.version, t.sid] })],
);

/**
 * Durable executions of a function, for ListDurableExecutionsByFunction. The
 * execution's state lives in its Durable Object (src/durable/execution-object.ts);
 * this index is written by that object when the execution starts and ends,
 * and dropped when its retention expires.
 */
export const durableExecutions = sqliteTable(
  "durable_executions",
  {
    tenantId: text("tenant_id").notNull(),
    functionName: text("function_name").notNull(),
    executionArn: text("execution_arn").notNull(),
    executionName: text("execution_name").notNull(),
    /** The version the execution runs (resolved from an alias when invoked through one). */
    version: text("version").notNull(),
    status: text("status").notNull(),
    /** Epoch ms. */
    startedAt: integer("started_at").notNull(),
    endedAt: integer("ended_at"),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.executionArn] }),
    index("durable_executions_function").on(t.tenantId, t.functionName, t.startedAt),
  ],
);
