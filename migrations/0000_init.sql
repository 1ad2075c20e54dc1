CREATE TABLE `aliases` (
	`tenant_id` text NOT NULL,
	`function_name` text NOT NULL,
	`name` text NOT NULL,
	`function_version` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`additional_version_weights` text,
	`revision_id` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `function_name`, `name`)
);
--> statement-breakpoint
CREATE TABLE `api_keys` (
	`access_key_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`scope` text NOT NULL,
	`secret_salt` text NOT NULL,
	`secret_hash` text NOT NULL,
	`created_at` text NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `api_keys_tenant` ON `api_keys` (`tenant_id`);--> statement-breakpoint
CREATE TABLE `function_versions` (
	`tenant_id` text NOT NULL,
	`function_name` text NOT NULL,
	`version` text NOT NULL,
	`version_number` integer NOT NULL,
	`config` text NOT NULL,
	`code_sha256` text NOT NULL,
	`code_size` integer NOT NULL,
	`bundle_key` text NOT NULL,
	`revision_id` text NOT NULL,
	`last_modified` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `function_name`, `version`)
);
--> statement-breakpoint
CREATE INDEX `function_versions_order` ON `function_versions` (`tenant_id`,`function_name`,`version_number`);--> statement-breakpoint
CREATE INDEX `function_versions_bundle` ON `function_versions` (`bundle_key`);--> statement-breakpoint
CREATE TABLE `functions` (
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`reserved_concurrency` integer,
	`last_version` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `name`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `tenants` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`account_id` text NOT NULL,
	`cell` integer NOT NULL,
	`concurrency_limit` integer DEFAULT 1000 NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tenants_name_unique` ON `tenants` (`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `tenants_account_id_unique` ON `tenants` (`account_id`);