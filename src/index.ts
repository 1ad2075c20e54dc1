import { buildApp } from "./app";
import { handleQueueBatch } from "./async/poller";

export { EventRunner } from "./async/event-entrypoint";
export { AssignmentPartition } from "./invoke/assignment-partition";
export { QueueManager } from "./async/queue-manager";
export { TenantQuota } from "./invoke/tenant-quota";
export { EgressGateway } from "./runtime/egress-gateway";
export { StreamDirectory } from "./kinesis/directory-object";
export { StreamShard } from "./kinesis/shard-object";

const app = buildApp();

export default {
  fetch: app.fetch,
  queue: handleQueueBatch,
} satisfies ExportedHandler<Env>;
