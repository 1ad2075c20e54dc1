import { describe, expect, it } from "vitest";
import { createActive, createFunctionBody, fn, newTenant, signed } from "../helpers/platform";

/**
 * What a user sees when a handler never yields (local workerd cannot preempt
 * it; see README "CPU-bound handlers" and the `.fails` case in
 * executor.integration.test.ts): the loop runs past its 1 s timeout to its
 * end, then the invocation is reported as a timeout, and its log says why it
 * was not stopped. Nothing here measures time.
 */
describe("a CPU-bound handler locally", () => {
  it("is reported as timed out after it ends, with cellfn's line in the Tail log", async () => {
    const key = await newTenant();
    const busy = "exports.handler = async () => { const end = Date.now() + 1500; while (Date.now() < end); return 'spun'; };";
    await createActive(key, createFunctionBody("spin", { "index.js": busy }, { Timeout: 1 }));
    const res = await signed(key, "POST", `${fn("spin")}/invocations`, {}, { "X-Amz-Log-Type": "Tail" });
    expect(res.status).toBe(200);
    expect(res.headers.get("X-Amz-Function-Error")).toBe("Unhandled");
    const requestId = res.headers.get("x-amzn-RequestId") ?? "";
    expect(await res.json()).toEqual({ errorType: "Sandbox.Timedout", errorMessage: `RequestId: ${requestId} Error: Task timed out after 1.00 seconds` });

    const log = atob(res.headers.get("X-Amz-Log-Result") ?? "").split("\n");
    const notice = log.findIndex((line) => line.includes(`${requestId} cellfn: the handler ran `));
    expect(notice).toBeGreaterThan(log.findIndex((line) => line.startsWith(`START RequestId: ${requestId}`)));
    expect(log[notice]).toMatch(/ran \d+ ms without yielding, past its 1 s timeout\. Local workerd cannot stop code that never yields: .* every other invocation in this process \(all tenants\) waited meanwhile\./);
    expect(log[notice + 1]).toMatch(new RegExp(`Z ${requestId} Task timed out after 1\\.00 seconds$`));
    expect(log.some((line) => /^REPORT RequestId: .*\tStatus: timeout/.test(line))).toBe(true);
  });
});
