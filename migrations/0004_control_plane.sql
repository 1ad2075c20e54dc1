CREATE TABLE `policy_statements` (
	`tenant_id` text NOT NULL,
	`function_name` text NOT NULL,
	`qualifier` text NOT NULL,
	`sid` text NOT NULL,
	`statement` text NOT NULL,
	`added_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `function_name`, `qualifier`, `sid`)
);
--> statement-breakpoint
ALTER TABLE `function_versions` ADD `state` text DEFAULT 'Active' NOT NULL;--> statement-breakpoint
ALTER TABLE `function_versions` ADD `state_reason` text;--> statement-breakpoint
ALTER TABLE `function_versions` ADD `state_reason_code` text;--> statement-breakpoint
ALTER TABLE `function_versions` ADD `last_update_status` text DEFAULT 'Successful';--> statement-breakpoint
ALTER TABLE `function_versions` ADD `last_update_status_reason` text;--> statement-breakpoint
ALTER TABLE `function_versions` ADD `last_update_status_reason_code` text;--> statement-breakpoint
ALTER TABLE `function_versions` ADD `pending_update` text;--> statement-breakpoint
ALTER TABLE `function_versions` ADD `transition_started_at` integer;--> statement-breakpoint
ALTER TABLE `function_versions` ADD `published_from` text;--> statement-breakpoint
ALTER TABLE `functions` ADD `tags` text;