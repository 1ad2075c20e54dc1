/**
 * Fuzzing, first slice (issue 19): every operation of every JSON-protocol
 * service in the registry gets generated bad input (broken JSON, non-object
 * bodies, wrong-typed and oversized fields). Invariants: never a 5xx, always
 * the service's error shape (`__type` and `message`), and the tenant's
 * resources unchanged (a refused request applies nothing).
 */
import { exports } from "cloudflare:workers";
import { AwsClient } from "aws4fetch";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { JSON_SERVICES } from "../../src/aws-json/registry";
import type { TenantKey } from "../helpers/platform";
import { BASE, newTenant } from "../helpers/platform";

/** Generated cases per operation: keep the whole file well under a minute in workerd. */
const RUNS_PER_OPERATION = 12;
const FIELDS = ["QueueUrl", "QueueName", "StreamName", "StreamARN", "ShardId", "logGroupName", "logStreamName", "MessageBody", "Entries", "Attributes", "Tags", "queryId", "limit", "ShardCount"];

/** Bodies that no operation accepts as valid: a body that is not JSON or not an object, or fields of the wrong type. */
const badBody = fc.oneof(
  fc.constantFrom("", "{", "[]", "null", "42", '"text"', "{\"a\":", "\u0000"),
  fc.dictionary(fc.constantFrom(...FIELDS), fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.string({ minLength: 300, maxLength: 2000 })), { minKeys: 1 }).map((o) => JSON.stringify(o)),
);

let key: TenantKey;
let generated = 0;

async function call(service: string, target: string, contentType: string, body: string): Promise<Response> {
  const client = new AwsClient({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, service, region: "us-east-1" });
  return exports.default.fetch(await client.sign(`${BASE}/`, { method: "POST", headers: { "x-amz-target": target, "content-type": contentType }, body }));
}

async function listings(): Promise<string[]> {
  const out: string[] = [];
  for (const [service, target, contentType] of [
    ["sqs", "AmazonSQS.ListQueues", "application/x-amz-json-1.0"],
    ["kinesis", "Kinesis_20131202.ListStreams", "application/x-amz-json-1.1"],
    ["logs", "Logs_20140328.DescribeLogGroups", "application/x-amz-json-1.1"],
  ] as const) {
    const res = await call(service, target, contentType, "{}");
    out.push(`${res.status} ${await res.text()}`);
  }
  return out;
}

let before: string[];
beforeAll(async () => {
  key = await newTenant("full", "fuzz");
  before = await listings();
});

describe("generated bad input to every JSON operation", () => {
  for (const service of JSON_SERVICES) {
    for (const operation of Object.keys(service.operations)) {
      const target = `${service.targetPrefix}.${operation}`;
      it(target, async () => {
        await fc.assert(
          fc.asyncProperty(badBody, async (body) => {
            generated++;
            const res = await call(service.signingName, target, service.contentType, body);
            const text = await res.text();
            if (res.status < 400) return; // some bodies are valid for some operations (e.g. `{}` with only optional fields)
            expect(res.status, `${target} ${body.slice(0, 80)} -> ${text}`).toBeLessThan(500);
            const json = JSON.parse(text) as Record<string, unknown>;
            expect(typeof json.__type, `${target}: ${text}`).toBe("string");
            expect(typeof (json.message ?? json.Message), `${target}: ${text}`).toBe("string");
          }),
          { numRuns: RUNS_PER_OPERATION },
        );
      });
    }
  }

  it("left the tenant's resources as they were", async () => {
    expect(await listings()).toEqual(before);
    console.log(`fuzz-json-operations: ${generated} generated cases`);
    expect(generated).toBeGreaterThan(0);
  });
});
