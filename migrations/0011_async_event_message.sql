-- Local development only (ASYNC_QUEUES_VOLATILE=true): the newest queue message of a queued
-- async event, so that events whose message died with wrangler dev's in-memory queue broker
-- are sent again after a restart (src/async/volatile-queues.ts). NULL in deployments.
ALTER TABLE `async_events` ADD `message` text;
CREATE INDEX `async_events_queued` ON `async_events` (`status`, `updated_at`);
