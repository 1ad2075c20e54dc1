/**
 * Kinesis-compatible streams end to end: `wrangler dev` started by the
 * harness, tenants and keys from the admin API, every call made with the real
 * @aws-sdk/client-kinesis (JSON 1.1 over SigV4, maxAttempts 1), as a user does.
 *
 * The Kinesis client is the one SDK v3 client whose default request handler
 * is HTTP/2 (NodeHttp2Handler, for SubscribeToShard). Over plain http:// that
 * means HTTP/2 with prior knowledge, which `wrangler dev` does not speak, so a
 * local endpoint needs the HTTP/1.1 handler, as README says; over https (a
 * deployment) the default handler negotiates with ALPN.
 */
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  IncreaseStreamRetentionPeriodCommand,
  KinesisClient,
  ListShardsCommand,
  ListStreamsCommand,
  ListTagsForStreamCommand,
  PutRecordCommand,
  PutRecordsCommand,
  waitUntilStreamExists,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenantWithKey, type Platform, startPlatform, type TenantCredentials } from "./harness";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function kinesisClient(platform: Platform, creds: TenantCredentials): KinesisClient {
  return new KinesisClient({
    endpoint: platform.url,
    region: "us-east-1",
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 10_000, requestTimeout: 60_000 }),
  });
}

async function errorOf(promise: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error("expected the call to fail");
}

describe("Kinesis through the real AWS SDK against wrangler dev", () => {
  let platform: Platform;
  let a: TenantCredentials;
  let b: TenantCredentials;
  let kinesisA: KinesisClient;
  let kinesisB: KinesisClient;

  beforeAll(async () => {
    platform = await startPlatform();
    a = await createTenantWithKey(platform, "stream-a");
    b = await createTenantWithKey(platform, "stream-b");
    kinesisA = kinesisClient(platform, a);
    kinesisB = kinesisClient(platform, b);
  });
  afterAll(async () => {
    kinesisA?.destroy();
    kinesisB?.destroy();
    await platform?.stop();
  });

  it("creates, waits for, describes and lists a stream", async () => {
    await kinesisA.send(new CreateStreamCommand({ StreamName: "clicks", ShardCount: 3, Tags: { team: "web" } }));
    const waited = await waitUntilStreamExists({ client: kinesisA, maxWaitTime: 30, minDelay: 1 }, { StreamName: "clicks" });
    expect(waited.state).toBe("SUCCESS");
    const { StreamDescription } = await kinesisA.send(new DescribeStreamCommand({ StreamName: "clicks" }));
    expect(StreamDescription?.StreamStatus).toBe("ACTIVE");
    expect(StreamDescription?.StreamARN).toBe(`arn:aws:kinesis:us-east-1:${a.accountId}:stream/clicks`);
    expect(StreamDescription?.Shards).toHaveLength(3);
    expect(StreamDescription?.StreamCreationTimestamp).toBeInstanceOf(Date);
    const { StreamDescriptionSummary } = await kinesisA.send(new DescribeStreamSummaryCommand({ StreamARN: StreamDescription?.StreamARN }));
    expect(StreamDescriptionSummary).toMatchObject({ StreamName: "clicks", OpenShardCount: 3, RetentionPeriodHours: 24 });
    const listed = await kinesisA.send(new ListStreamsCommand({}));
    expect(listed.StreamNames).toEqual(["clicks"]);
    expect(listed.StreamSummaries?.[0]?.StreamModeDetails?.StreamMode).toBe("PROVISIONED");
    const shards = await kinesisA.send(new ListShardsCommand({ StreamName: "clicks", MaxResults: 2 }));
    expect(shards.Shards?.map((s) => s.ShardId)).toEqual(["shardId-000000000000", "shardId-000000000001"]);
    const rest = await kinesisA.send(new ListShardsCommand({ NextToken: shards.NextToken }));
    expect(rest.Shards?.map((s) => s.ShardId)).toEqual(["shardId-000000000002"]);
    const tags = await kinesisA.send(new ListTagsForStreamCommand({ StreamName: "clicks" }));
    expect(tags.Tags).toEqual([{ Key: "team", Value: "web" }]);
  });

  it("writes records by partition key and reads them back in order with their bytes and arrival times", async () => {
    const first = await kinesisA.send(new PutRecordCommand({ StreamName: "clicks", PartitionKey: "user-1", Data: encoder.encode("hello") }));
    expect(first.SequenceNumber).toMatch(/^\d{56}$/);
    const batch = await kinesisA.send(
      new PutRecordsCommand({
        StreamName: "clicks",
        Records: Array.from({ length: 50 }, (_, i) => ({ PartitionKey: "user-1", Data: encoder.encode(`event-${i}`) })),
      }),
    );
    expect(batch.FailedRecordCount).toBe(0);
    expect(new Set(batch.Records?.map((r) => r.ShardId))).toEqual(new Set([first.ShardId]));
    const { ShardIterator } = await kinesisA.send(
      new GetShardIteratorCommand({ StreamName: "clicks", ShardId: first.ShardId, ShardIteratorType: "AT_SEQUENCE_NUMBER", StartingSequenceNumber: first.SequenceNumber }),
    );
    const out = await kinesisA.send(new GetRecordsCommand({ ShardIterator, Limit: 100 }));
    expect(out.Records?.map((r) => decoder.decode(r.Data))).toEqual(["hello", ...Array.from({ length: 50 }, (_, i) => `event-${i}`)]);
    expect(out.Records?.[0]?.ApproximateArrivalTimestamp).toBeInstanceOf(Date);
    expect(out.Records?.[0]?.PartitionKey).toBe("user-1");
    expect(out.MillisBehindLatest).toBe(0);
    expect(out.NextShardIterator).toBeTruthy();
    const binary = new Uint8Array([0, 255, 1, 254, 10, 13]);
    const put = await kinesisA.send(new PutRecordCommand({ StreamName: "clicks", PartitionKey: "user-1", Data: binary }));
    const next = await kinesisA.send(new GetRecordsCommand({ ShardIterator: out.NextShardIterator }));
    expect(next.Records?.map((r) => r.SequenceNumber)).toEqual([put.SequenceNumber]);
    expect(Array.from(next.Records?.[0]?.Data ?? [])).toEqual(Array.from(binary));
  });

  it("PutRecords over a shard's limit answers per-record failures as the SDK expects", async () => {
    await kinesisA.send(new CreateStreamCommand({ StreamName: "hot", ShardCount: 1 }));
    const big = new Uint8Array(400_000);
    const out = await kinesisA.send(
      new PutRecordsCommand({ StreamName: "hot", Records: Array.from({ length: 4 }, (_, i) => ({ PartitionKey: `k${i}`, Data: big })) }),
    );
    expect(out.FailedRecordCount).toBe(2);
    expect(out.Records?.slice(2).map((r) => r.ErrorCode)).toEqual(["ProvisionedThroughputExceededException", "ProvisionedThroughputExceededException"]);
  });

  it("surfaces Kinesis's errors as the SDK's exception classes", async () => {
    expect(await errorOf(kinesisA.send(new DescribeStreamCommand({ StreamName: "nope" })))).toEqual({
      name: "ResourceNotFoundException",
      message: `Stream nope under account ${a.accountId} not found.`,
      status: 400,
    });
    expect(await errorOf(kinesisA.send(new CreateStreamCommand({ StreamName: "clicks", ShardCount: 1 })))).toMatchObject({
      name: "ResourceInUseException",
    });
    expect(await errorOf(kinesisA.send(new PutRecordCommand({ StreamName: "clicks", PartitionKey: "p", Data: new Uint8Array(1024 * 1024 + 1) })))).toMatchObject({
      name: "ValidationException",
    });
    expect(await errorOf(kinesisA.send(new GetRecordsCommand({ ShardIterator: "forged" })))).toEqual({
      name: "InvalidArgumentException",
      message: "Invalid ShardIterator.",
      status: 400,
    });
    expect(await errorOf(kinesisA.send(new IncreaseStreamRetentionPeriodCommand({ StreamName: "clicks", RetentionPeriodHours: 9000 })))).toMatchObject({
      name: "InvalidArgumentException",
    });
  });

  it("keeps tenants apart: B sees A's stream as missing by name and by ARN, and cannot use A's iterator", async () => {
    const arn = `arn:aws:kinesis:us-east-1:${a.accountId}:stream/clicks`;
    const missing = { name: "ResourceNotFoundException", message: `Stream clicks under account ${b.accountId} not found.`, status: 400 };
    expect(await errorOf(kinesisB.send(new DescribeStreamCommand({ StreamName: "clicks" })))).toEqual(missing);
    expect(await errorOf(kinesisB.send(new DescribeStreamSummaryCommand({ StreamARN: arn })))).toEqual(missing);
    expect(await errorOf(kinesisB.send(new PutRecordCommand({ StreamARN: arn, PartitionKey: "p", Data: encoder.encode("x") })))).toEqual(missing);
    expect(await errorOf(kinesisB.send(new DeleteStreamCommand({ StreamName: "clicks" })))).toEqual(missing);
    expect((await kinesisB.send(new ListStreamsCommand({}))).StreamNames).toEqual([]);
    const { ShardIterator } = await kinesisA.send(new GetShardIteratorCommand({ StreamName: "clicks", ShardId: "shardId-000000000000", ShardIteratorType: "TRIM_HORIZON" }));
    expect(await errorOf(kinesisB.send(new GetRecordsCommand({ ShardIterator })))).toEqual({ name: "InvalidArgumentException", message: "Invalid ShardIterator.", status: 400 });
    expect((await kinesisA.send(new DescribeStreamSummaryCommand({ StreamName: "clicks" }))).StreamDescriptionSummary?.StreamStatus).toBe("ACTIVE");
  });

  it("deletes a stream", async () => {
    await kinesisA.send(new DeleteStreamCommand({ StreamName: "hot" }));
    expect(await errorOf(kinesisA.send(new DescribeStreamCommand({ StreamName: "hot" })))).toMatchObject({ name: "ResourceNotFoundException" });
  });
});
