import { buildApp } from "./app";
import { handleQueueBatch } from "./async/poller";

export { EventRunner } from "./async/event-runner";
export { AssignmentPartition } from "../durable-objects/assignment-partition";
export { LogDirectory } from "../durable-objects/log-directory";
export { LogGroup } from "../durable-objects/log-group";
export { QueueManager } from "../durable-objects/queue-manager";
export { TenantQuota } from "../durable-objects/tenant-quota";
export { EgressGateway } from "./runtime/egress-gateway";

const app = buildApp();

export default {
  fetch: app.fetch,
  queue: handleQueueBatch,
} satisfies ExportedHandler<Env>;
