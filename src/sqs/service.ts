import type { JsonService } from "../aws-json/service";
import { requestThrottled, unsupportedOperation } from "./errors";
import { cancelMessageMoveTask, listMessageMoveTasks, startMessageMoveTask } from "./move-ops";
import {
  changeMessageVisibility,
  changeMessageVisibilityBatch,
  deleteMessage,
  deleteMessageBatch,
  receiveMessage,
  sendMessage,
  sendMessageBatch,
} from "./message-ops";
import {
  createQueue,
  deleteQueue,
  getQueueAttributes,
  getQueueUrl,
  listDeadLetterSourceQueues,
  listQueues,
  listQueueTags,
  purgeQueue,
  setQueueAttributes,
  tagQueue,
  untagQueue,
} from "./queue-ops";

const permissionsUnsupported = async () => {
  throw unsupportedOperation("AddPermission and RemovePermission are not supported: queues are private to their tenant.");
};

/**
 * Amazon SQS's JSON protocol (awsJson1_0, awsQueryCompatible), served per
 * tenant: each queue is an SqsQueue Durable Object, each tenant's list of
 * queues an SqsDirectory. Errors are `com.amazonaws.sqs#<Shape>` with the
 * query-protocol code in `x-amzn-query-error`.
 */
export const sqsService: JsonService = {
  targetPrefix: "AmazonSQS",
  signingName: "sqs",
  contentType: "application/x-amz-json-1.0",
  errorTypePrefix: "com.amazonaws.sqs#",
  throttled: requestThrottled,
  operations: {
    CreateQueue: createQueue,
    GetQueueUrl: getQueueUrl,
    ListQueues: listQueues,
    GetQueueAttributes: getQueueAttributes,
    SetQueueAttributes: setQueueAttributes,
    TagQueue: tagQueue,
    UntagQueue: untagQueue,
    ListQueueTags: listQueueTags,
    PurgeQueue: purgeQueue,
    DeleteQueue: deleteQueue,
    ListDeadLetterSourceQueues: listDeadLetterSourceQueues,
    SendMessage: sendMessage,
    SendMessageBatch: sendMessageBatch,
    ReceiveMessage: receiveMessage,
    DeleteMessage: deleteMessage,
    DeleteMessageBatch: deleteMessageBatch,
    ChangeMessageVisibility: changeMessageVisibility,
    ChangeMessageVisibilityBatch: changeMessageVisibilityBatch,
    StartMessageMoveTask: startMessageMoveTask,
    ListMessageMoveTasks: listMessageMoveTasks,
    CancelMessageMoveTask: cancelMessageMoveTask,
    AddPermission: permissionsUnsupported,
    RemovePermission: permissionsUnsupported,
  },
};
