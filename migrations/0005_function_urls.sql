CREATE TABLE `function_urls` (
	`url_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`function_name` text NOT NULL,
	`qualifier` text NOT NULL,
	`auth_type` text NOT NULL,
	`cors` text,
	`invoke_mode` text NOT NULL,
	`creation_time` text NOT NULL,
	`last_modified_time` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `function_urls_target` ON `function_urls` (`tenant_id`,`function_name`,`qualifier`);