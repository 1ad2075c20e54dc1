import type { JsonServiceCall } from "../aws-json/service";
import { ALL_ATTRIBUTE_NAMES, COMPUTED_ATTRIBUTES, initialSettings, validateQueueName, validateSettableAttributes } from "./attributes";
import { invalidAttributeName, invalidParameterValue, queueDoesNotExist } from "./errors";
import { integerInRange, optionalString, requiredString, stringList, stringMap } from "./input";
import { ownQueueFromArn, ownQueueFromUrl, queueArn, queueUrl } from "./queue-ref";
import { TenantQueues } from "./queues";
import { parseRedrivePolicy, redriveAllowed } from "./redrive";
import { validateTags } from "./tags";

type Input = Record<string, unknown>;

const LIST_MAX_RESULTS = 1000;

export const queuesOf = (call: JsonServiceCall) => new TenantQueues(call.env, call.principal.tenantId);
export const nameFromUrl = (input: Input, call: JsonServiceCall) => ownQueueFromUrl(requiredString(input, "QueueUrl"), call.principal.accountId);
const urlOf = (call: JsonServiceCall, name: string) => queueUrl(call.endpoint, call.principal.accountId, name);

export async function createQueue(input: Input, call: JsonServiceCall) {
  const name = requiredString(input, "QueueName");
  const given = stringMap(input, "Attributes");
  const fifo = given.FifoQueue?.trim() === "true";
  validateQueueName(name, fifo);
  const attributes = validateSettableAttributes(given, fifo, true);
  const tags = stringMap(input, "tags");
  validateTags(tags);
  const { accountId, tenantId } = call.principal;
  const arn = queueArn(call.env.REGION, accountId, name);
  const queues = queuesOf(call);
  const deadLetterQueue = attributes.RedrivePolicy ? await checkRedrivePolicy(queues, call, attributes.RedrivePolicy, fifo, arn) : null;
  const settings = initialSettings(Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== "")), fifo);
  await queues.create({ tenantId, accountId, name, arn }, settings, tags);
  // Also on an idempotent repeat: it lists a queue whose first create stopped before this line.
  await queues.directory.register(name, deadLetterQueue);
  return { QueueUrl: urlOf(call, name) };
}

/** The dead-letter queue a RedrivePolicy names must be the caller's, exist, be of the same type and allow this source. */
async function checkRedrivePolicy(queues: TenantQueues, call: JsonServiceCall, policyText: string, fifo: boolean, sourceArn: string): Promise<string> {
  const policy = parseRedrivePolicy(policyText);
  const invalid = (reason: string) => invalidParameterValue(`Value ${policyText} for parameter RedrivePolicy is invalid. Reason: ${reason}`);
  const name = ownQueueFromArn(policy.deadLetterTargetArn, call.principal.accountId);
  const target = name === null ? null : await queues.describe(name);
  if (!target || name === null) throw invalid("Dead letter target does not exist.");
  if ((target.settings.FifoQueue === "true") !== fifo) throw invalid("Dead-letter queue must be same type of queue as the source.");
  if (!redriveAllowed(target.settings.RedriveAllowPolicy, sourceArn)) throw invalid(`Queue ${target.arn} does not allow this queue as a dead-letter source.`);
  return name;
}

export async function getQueueUrl(input: Input, call: JsonServiceCall) {
  const name = requiredString(input, "QueueName");
  const owner = optionalString(input, "QueueOwnerAWSAccountId");
  if (owner !== undefined && owner !== call.principal.accountId) throw queueDoesNotExist();
  if (!(await queuesOf(call).describe(name))) throw queueDoesNotExist();
  return { QueueUrl: urlOf(call, name) };
}

export async function listQueues(input: Input, call: JsonServiceCall) {
  const prefix = optionalString(input, "QueueNamePrefix") ?? "";
  const max = integerInRange(input, "MaxResults", 1, LIST_MAX_RESULTS);
  const token = optionalString(input, "NextToken");
  const after = token === undefined ? "" : decodeToken(token);
  const page = await queuesOf(call).directory.list(prefix, after, max ?? LIST_MAX_RESULTS);
  return {
    ...(page.names.length > 0 ? { QueueUrls: page.names.map((n) => urlOf(call, n)) } : {}),
    ...(page.nextName !== undefined && max !== undefined ? { NextToken: encodeToken(page.nextName) } : {}),
  };
}

export async function listDeadLetterSourceQueues(input: Input, call: JsonServiceCall) {
  const name = nameFromUrl(input, call);
  const max = integerInRange(input, "MaxResults", 1, LIST_MAX_RESULTS);
  const token = optionalString(input, "NextToken");
  const queues = queuesOf(call);
  if (!(await queues.describe(name))) throw queueDoesNotExist();
  const page = await queues.directory.sourcesOf(name, token === undefined ? "" : decodeToken(token), max ?? LIST_MAX_RESULTS);
  return {
    queueUrls: page.names.map((n) => urlOf(call, n)),
    ...(page.nextName !== undefined && max !== undefined ? { NextToken: encodeToken(page.nextName) } : {}),
  };
}

const encodeToken = (name: string) => btoa(JSON.stringify({ after: name }));
function decodeToken(token: string): string {
  try {
    const value = JSON.parse(atob(token)) as { after?: unknown };
    if (typeof value.after === "string") return value.after;
  } catch {
    // fall through
  }
  throw invalidParameterValue("Invalid NextToken value.");
}

export async function getQueueAttributes(input: Input, call: JsonServiceCall) {
  const name = nameFromUrl(input, call);
  const requested = stringList(input, "AttributeNames");
  for (const n of requested) if (n !== "All" && !ALL_ATTRIBUTE_NAMES.has(n)) throw invalidAttributeName(n);
  const attributes = await queuesOf(call).attributes(name);
  if (requested.length === 0) return {};
  const all = requested.includes("All");
  const picked = Object.fromEntries(Object.entries(attributes).filter(([k]) => all || requested.includes(k)));
  return Object.keys(picked).length > 0 ? { Attributes: picked } : {};
}

export async function setQueueAttributes(input: Input, call: JsonServiceCall) {
  const name = nameFromUrl(input, call);
  const given = stringMap(input, "Attributes");
  const queues = queuesOf(call);
  const queue = await queues.describe(name);
  if (!queue) throw queueDoesNotExist();
  const fifo = queue.settings.FifoQueue === "true";
  for (const n of Object.keys(given)) if ((COMPUTED_ATTRIBUTES as readonly string[]).includes(n)) throw invalidAttributeName(n);
  const changes = validateSettableAttributes(given, fifo, false);
  let deadLetterQueue: string | null | undefined;
  if (changes.RedrivePolicy !== undefined) {
    deadLetterQueue = changes.RedrivePolicy === "" ? null : await checkRedrivePolicy(queues, call, changes.RedrivePolicy, fifo, queue.arn);
  }
  await queues.setAttributes(name, changes);
  if (deadLetterQueue !== undefined) await queues.directory.register(name, deadLetterQueue);
  return {};
}

export async function tagQueue(input: Input, call: JsonServiceCall) {
  const name = nameFromUrl(input, call);
  const tags = stringMap(input, "Tags");
  validateTags(tags);
  await queuesOf(call).tag(name, tags);
  return {};
}

export async function untagQueue(input: Input, call: JsonServiceCall) {
  const name = nameFromUrl(input, call);
  await queuesOf(call).untag(name, stringList(input, "TagKeys"));
  return {};
}

export async function listQueueTags(input: Input, call: JsonServiceCall) {
  const tags = await queuesOf(call).tags(nameFromUrl(input, call));
  return Object.keys(tags).length > 0 ? { Tags: tags } : {};
}

export async function purgeQueue(input: Input, call: JsonServiceCall) {
  await queuesOf(call).purge(nameFromUrl(input, call));
  return {};
}

export async function deleteQueue(input: Input, call: JsonServiceCall) {
  const name = nameFromUrl(input, call);
  const queues = queuesOf(call);
  await queues.destroy(name);
  await queues.directory.unregister(name);
  return {};
}
