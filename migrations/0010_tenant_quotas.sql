-- Per-tenant quotas, admin-settable (PATCH /admin/tenants/{id}); defaults are AWS's
-- (Lambda code storage 75 GB = 80530636800 bytes, Kinesis 500 shards per account).
ALTER TABLE `tenants` ADD `code_storage_limit` integer DEFAULT 80530636800 NOT NULL;
--> statement-breakpoint
ALTER TABLE `tenants` ADD `shard_limit` integer DEFAULT 500 NOT NULL;
