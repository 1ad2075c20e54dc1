CREATE TABLE `async_events` (
	`request_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`function_name` text NOT NULL,
	`qualifier` text,
	`status` text NOT NULL,
	`invoke_count` integer DEFAULT 0 NOT NULL,
	`accepted_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `async_events_function` ON `async_events` (`tenant_id`,`function_name`);--> statement-breakpoint
CREATE TABLE `event_invoke_configs` (
	`tenant_id` text NOT NULL,
	`function_name` text NOT NULL,
	`qualifier` text NOT NULL,
	`maximum_retry_attempts` integer,
	`maximum_event_age_in_seconds` integer,
	`on_success` text,
	`on_failure` text,
	`last_modified` real NOT NULL,
	PRIMARY KEY(`tenant_id`, `function_name`, `qualifier`)
);
--> statement-breakpoint
CREATE TABLE `failed_events` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`function_name` text NOT NULL,
	`request_id` text NOT NULL,
	`condition` text NOT NULL,
	`record` text NOT NULL,
	`created_at` integer NOT NULL,
	`redriven_at` integer
);
--> statement-breakpoint
CREATE INDEX `failed_events_function` ON `failed_events` (`tenant_id`,`function_name`,`created_at`);--> statement-breakpoint
ALTER TABLE `tenants` ADD `cell_pinned` integer DEFAULT false NOT NULL;