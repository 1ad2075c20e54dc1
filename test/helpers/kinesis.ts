import { AwsClient } from "aws4fetch";
import { exports } from "cloudflare:workers";
import { BASE, type TenantKey } from "./platform";

/**
 * Kinesis calls through the Worker's fetch, signed with SigV4 for the
 * `kinesis` service as the AWS CLI and SDKs sign them.
 */
export async function kinesis(key: TenantKey, operation: string, body: unknown): Promise<Response> {
  const client = new AwsClient({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, service: "kinesis", region: "us-east-1" });
  const request = await client.sign(`${BASE}/`, {
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `Kinesis_20131202.${operation}` },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return exports.default.fetch(request);
}

/** The JSON of a call that must succeed. */
export async function ok<T = Record<string, unknown>>(key: TenantKey, operation: string, body: unknown): Promise<T> {
  const res = await kinesis(key, operation, body);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${operation}: expected 200, got ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** The error of a call that must fail: status, `__type`, message. */
export async function fails(key: TenantKey, operation: string, body: unknown): Promise<{ status: number; type: string; message: string }> {
  const res = await kinesis(key, operation, body);
  const json = await res.json<{ __type?: string; message?: string; Message?: string }>();
  return { status: res.status, type: json.__type ?? "", message: json.message ?? json.Message ?? "" };
}

export const b64 = (text: string) => btoa(text);
export const unb64 = (text: string) => atob(text);

export interface KinesisRecordOut {
  SequenceNumber: string;
  ApproximateArrivalTimestamp: number;
  Data: string;
  PartitionKey: string;
}

export interface GetRecordsOut {
  Records: KinesisRecordOut[];
  NextShardIterator: string;
  MillisBehindLatest: number;
}

export async function iterator(key: TenantKey, body: Record<string, unknown>): Promise<string> {
  return (await ok<{ ShardIterator: string }>(key, "GetShardIterator", body)).ShardIterator;
}

export async function readAll(key: TenantKey, streamName: string, shardId: string): Promise<KinesisRecordOut[]> {
  const it = await iterator(key, { StreamName: streamName, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" });
  return (await ok<GetRecordsOut>(key, "GetRecords", { ShardIterator: it })).Records;
}
