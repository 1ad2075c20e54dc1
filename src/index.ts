import { buildApp } from "./app";

export { AssignmentPartition } from "../durable-objects/assignment-partition";
export { TenantQuota } from "../durable-objects/tenant-quota";
export { EgressGateway } from "./runtime/egress-gateway";

const app = buildApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
