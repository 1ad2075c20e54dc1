import { buildApp } from "./app";
import { handleQueueBatch } from "./async/poller";

export { EventRunner } from "./async/event-runner";
export { AssignmentPartition } from "../durable-objects/assignment-partition";
export { QueueManager } from "../durable-objects/queue-manager";
export { TenantQuota } from "../durable-objects/tenant-quota";
export { EgressGateway } from "./runtime/egress-gateway";
export { SqsDirectory } from "./sqs/directory-object";
export { SqsQueue } from "./sqs/queue-object";

const app = buildApp();

export default {
  fetch: app.fetch,
  queue: handleQueueBatch,
} satisfies ExportedHandler<Env>;
