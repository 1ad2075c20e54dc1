import { AwsClient } from "aws4fetch";
import { exports } from "cloudflare:workers";
import { BASE, type TenantKey } from "./platform";

/** An SQS JSON-protocol call signed for the `sqs` service, as the SDKs send it. */
export async function sqsCall(key: TenantKey, operation: string, body: unknown): Promise<Response> {
  const client = new AwsClient({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, service: "sqs", region: "us-east-1" });
  const request = await client.sign(`${BASE}/`, {
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": `AmazonSQS.${operation}` },
    body: JSON.stringify(body),
  });
  return exports.default.fetch(request);
}

/** A successful call's JSON body (fails the test with the answer otherwise). */
export async function sqsOk<T = Record<string, unknown>>(key: TenantKey, operation: string, body: unknown): Promise<T> {
  const res = await sqsCall(key, operation, body);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${operation}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

export interface SqsErrorAnswer {
  status: number;
  type: string;
  message: string;
  queryError: string | null;
}

/** An error answer: status, `__type`, message and the x-amzn-query-error header. */
export async function sqsError(key: TenantKey, operation: string, body: unknown): Promise<SqsErrorAnswer> {
  const res = await sqsCall(key, operation, body);
  const json = await res.json<{ __type: string; message: string }>();
  if (res.status === 200) throw new Error(`${operation}: expected an error, got 200 ${JSON.stringify(json)}`);
  return { status: res.status, type: json.__type, message: json.message, queryError: res.headers.get("x-amzn-query-error") };
}

export async function createQueue(key: TenantKey, name: string, attributes: Record<string, string> = {}): Promise<string> {
  const out = await sqsOk<{ QueueUrl: string }>(key, "CreateQueue", { QueueName: name, Attributes: attributes });
  return out.QueueUrl;
}

export const arnOf = (key: TenantKey, name: string) => `arn:aws:sqs:us-east-1:${key.accountId}:${name}`;
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface ReceivedMessage {
  MessageId: string;
  ReceiptHandle: string;
  MD5OfBody: string;
  Body: string;
  Attributes?: Record<string, string>;
  MD5OfMessageAttributes?: string;
  MessageAttributes?: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
}

export async function receive(key: TenantKey, queueUrl: string, extra: Record<string, unknown> = {}): Promise<ReceivedMessage[]> {
  const out = await sqsOk<{ Messages?: ReceivedMessage[] }>(key, "ReceiveMessage", { QueueUrl: queueUrl, ...extra });
  return out.Messages ?? [];
}

export async function attributes(key: TenantKey, queueUrl: string, names: string[] = ["All"]): Promise<Record<string, string>> {
  const out = await sqsOk<{ Attributes?: Record<string, string> }>(key, "GetQueueAttributes", { QueueUrl: queueUrl, AttributeNames: names });
  return out.Attributes ?? {};
}
