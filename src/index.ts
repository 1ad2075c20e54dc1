import { buildApp, buildInvokeApp } from "./app";
import { handleQueueBatch } from "./async/poller";
import { atTheDoor } from "./invoke/door";
import { recoverLostQueueMessages } from "./async/volatile-queues";

export { EventRunner } from "./async/event-entrypoint";
export { DurableExecution } from "./durable/execution-object";
export { DurableInvoker } from "./durable/invoker";
export { SqsBatchRunner } from "./event-sources/batch-runner";
export { EventSourceDirectory } from "./event-sources/directory-object";
export { SqsPoller } from "./event-sources/poller-object";
export { StreamPoller } from "./event-sources/stream-poller-object";
export { QueueManager } from "./async/queue-manager";
export { UrlOutbox } from "./async/url-outbox";
export { AssignmentPartition } from "./invoke/assignment-partition";
export { TenantQuota } from "./invoke/tenant-quota";
export { StreamDirectory } from "./kinesis/directory-object";
export { StreamShard } from "./kinesis/shard-object";
export { LogDirectory } from "./logs/log-directory";
export { LogGroup } from "./logs/log-group";
export { MetricStore } from "./metrics/metric-store";
export { EgressGateway } from "./runtime/egress-gateway";
export { SqsDirectory } from "./sqs/directory-object";
export { SqsQueue } from "./sqs/queue-object";

const app = buildApp();
const invokeApp = buildInvokeApp();

export default {
  // Invoke requests past this isolate's bound are refused before anything else runs (src/invoke/door.ts);
  // a sync Invoke goes to its route directly, any other request through the whole app.
  fetch(request, env, ctx) {
    recoverLostQueueMessages(env, ctx);
    return atTheDoor(request, env, ctx, (invoke) => (invoke ? invokeApp : app).fetch(request, env, ctx));
  },
  queue(batch, env, ctx) {
    recoverLostQueueMessages(env, ctx);
    return handleQueueBatch(batch, env, ctx);
  },
} satisfies ExportedHandler<Env>;
