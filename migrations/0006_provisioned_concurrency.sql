-- Provisioned concurrency (PutProvisionedConcurrencyConfig): one row per function + alias or version.
-- Allocation and status live in the function's AssignmentPartition Durable Object.
CREATE TABLE IF NOT EXISTS `provisioned_concurrency_configs` (
	`tenant_id` text NOT NULL,
	`function_name` text NOT NULL,
	`qualifier` text NOT NULL,
	`requested` integer NOT NULL,
	`last_modified` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `function_name`, `qualifier`)
);
