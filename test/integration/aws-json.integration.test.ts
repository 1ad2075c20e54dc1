import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newTenant } from "../helpers/platform";
import { createQueue, sqsCall } from "../helpers/sqs";

// The JSON-protocol front door shared by SQS, Kinesis and CloudWatch Logs.
describe("POST / (JSON-protocol services)", () => {
  it("answers an unknown X-Amz-Target in the JSON error shape, before authentication", async () => {
    const res = await exports.default.fetch("http://cellfn.test/", {
      method: "POST",
      headers: { "x-amz-target": "NoSuchService_20990101.DoIt", "content-type": "application/x-amz-json-1.1" },
      body: "{}",
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ __type: "UnknownOperationException", message: "Unknown target: NoSuchService_20990101.DoIt" });
    expect(res.headers.get("x-amzn-RequestId")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers a missing X-Amz-Target the same way", async () => {
    const res = await exports.default.fetch("http://cellfn.test/", { method: "POST", body: "{}" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ __type: "UnknownOperationException" });
  });

  it("says in Server-Timing when the route started and how long SigV4 and the operation took (bench:queues splits the send leg with it)", async () => {
    const key = await newTenant("full", "json-timing");
    const url = await createQueue(key, "timing");
    const before = Date.now();
    const res = await sqsCall(key, "SendMessage", { QueueUrl: url, MessageBody: "hello" });
    expect(res.status).toBe(200);
    const timing = res.headers.get("server-timing") ?? "";
    const match = /^arrive;desc="(\d+)", auth;dur=(\d+), op;dur=(\d+)$/.exec(timing);
    expect(match, timing).not.toBeNull();
    const [arrive, auth, op] = (match ?? []).slice(1).map(Number) as [number, number, number];
    expect(arrive).toBeGreaterThanOrEqual(before);
    expect(arrive + auth + op).toBeLessThanOrEqual(Date.now());
  });
});
