-- Durable executions of a function (src/db/schema.ts durableExecutions): the
-- index ListDurableExecutionsByFunction reads; each execution's state lives in
-- its DurableExecution Durable Object.
CREATE TABLE `durable_executions` (
	`tenant_id` text NOT NULL,
	`function_name` text NOT NULL,
	`execution_arn` text NOT NULL,
	`execution_name` text NOT NULL,
	`version` text NOT NULL,
	`status` text NOT NULL,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	PRIMARY KEY(`tenant_id`, `execution_arn`)
);
--> statement-breakpoint
CREATE INDEX `durable_executions_function` ON `durable_executions` (`tenant_id`,`function_name`,`started_at`);
