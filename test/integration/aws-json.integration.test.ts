import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

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
});
