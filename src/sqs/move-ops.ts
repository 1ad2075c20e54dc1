import type { JsonServiceCall } from "../aws-json/service";
import { invalidParameterValue, resourceNotFound } from "./errors";
import { integerInRange, optionalString, requiredString } from "./input";
import { MOVE_RATE_MAX_PER_S } from "./move-tasks";
import { ownQueueFromArn } from "./queue-ref";
import { queuesOf } from "./queue-ops";

type Input = Record<string, unknown>;

const LIST_TASKS_MAX = 10;
const sourceNotFound = () => resourceNotFound("The resource that you specified for the SourceArn parameter doesn't exist.");
const taskNotFound = () => resourceNotFound("Task does not exist.");

/** Task handles name the task and its dead-letter queue, so CancelMessageMoveTask finds the queue's object. */
const encodeHandle = (taskId: string, sourceArn: string) => btoa(JSON.stringify({ taskId, sourceArn }));
function decodeHandle(handle: string): { taskId: string; sourceArn: string } | null {
  try {
    const value = JSON.parse(atob(handle)) as Record<string, unknown>;
    return typeof value.taskId === "string" && typeof value.sourceArn === "string" ? { taskId: value.taskId, sourceArn: value.sourceArn } : null;
  } catch {
    return null;
  }
}

/** The caller's dead-letter queue named by SourceArn; another account's ARN is answered as a missing one. */
async function ownSource(input: Input, call: JsonServiceCall) {
  const sourceArn = requiredString(input, "SourceArn");
  const name = ownQueueFromArn(sourceArn, call.principal.accountId);
  const queues = queuesOf(call);
  const queue = name === null ? null : await queues.describe(name);
  if (!queue || name === null) throw sourceNotFound();
  return { name, queue, queues, sourceArn };
}

export async function startMessageMoveTask(input: Input, call: JsonServiceCall) {
  const { name, queue, queues } = await ownSource(input, call);
  const destinationArn = optionalString(input, "DestinationArn");
  const rate = integerInRange(input, "MaxNumberOfMessagesPerSecond", 1, MOVE_RATE_MAX_PER_S);
  const sources = await queues.directory.sourcesOf(name, "", 1);
  if (sources.names.length === 0) throw invalidParameterValue("Source queue must be configured as a Dead Letter Queue.");
  if (destinationArn !== undefined) {
    const destination = ownQueueFromArn(destinationArn, call.principal.accountId);
    if (destination === null || !(await queues.describe(destination))) {
      throw resourceNotFound("The resource that you specified for the DestinationArn parameter doesn't exist.");
    }
  }
  const taskId = await queues.startMoveTask(name, destinationArn, rate);
  return { TaskHandle: encodeHandle(taskId, queue.arn) };
}

export async function listMessageMoveTasks(input: Input, call: JsonServiceCall) {
  const { name, queues } = await ownSource(input, call);
  const max = integerInRange(input, "MaxResults", 1, LIST_TASKS_MAX) ?? 1;
  const tasks = await queues.listMoveTasks(name, max);
  return { Results: tasks.map((t) => (t.TaskHandle ? { ...t, TaskHandle: encodeHandle(t.TaskHandle, t.SourceArn) } : t)) };
}

export async function cancelMessageMoveTask(input: Input, call: JsonServiceCall) {
  const handle = decodeHandle(requiredString(input, "TaskHandle"));
  const name = handle ? ownQueueFromArn(handle.sourceArn, call.principal.accountId) : null;
  if (!handle || name === null) throw taskNotFound();
  const queues = queuesOf(call);
  if (!(await queues.describe(name))) throw taskNotFound();
  return { ApproximateNumberOfMessagesMoved: await queues.cancelMoveTask(name, handle.taskId) };
}
