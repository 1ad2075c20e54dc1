import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("GET /healthz", () => {
  it("answers 200 once the worker is up", async () => {
    const res = await exports.default.fetch("http://cellfn.test/healthz");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-amzn-RequestId")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers unknown routes in the Lambda error shape", async () => {
    const res = await exports.default.fetch("http://cellfn.test/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("x-amzn-ErrorType")).toBe("UnknownOperationException");
  });
});
