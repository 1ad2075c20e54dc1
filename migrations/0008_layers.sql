-- Lambda layers (issue 12): one row per published layer version, never reused or
-- removed (DeleteLayerVersion marks it deleted: functions keep the version they named),
-- and the statements of each version's resource-based policy.
CREATE TABLE `layer_versions` (
	`tenant_id` text NOT NULL,
	`layer_name` text NOT NULL,
	`version` integer NOT NULL,
	`description` text NOT NULL,
	`license_info` text,
	`compatible_runtimes` text,
	`compatible_architectures` text,
	`code_sha256` text NOT NULL,
	`code_size` integer NOT NULL,
	`unzipped_size` integer NOT NULL,
	`created_date` text NOT NULL,
	`deleted` integer DEFAULT false NOT NULL,
	`policy_revision_id` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `layer_name`, `version`)
);
--> statement-breakpoint
CREATE INDEX `layer_versions_code` ON `layer_versions` (`code_sha256`);
--> statement-breakpoint
CREATE TABLE `layer_version_statements` (
	`tenant_id` text NOT NULL,
	`layer_name` text NOT NULL,
	`version` integer NOT NULL,
	`sid` text NOT NULL,
	`statement` text NOT NULL,
	`principal` text NOT NULL,
	`added_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `layer_name`, `version`, `sid`)
);
