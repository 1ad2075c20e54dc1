import { describe, expect, it } from "vitest";
import type { TenantKey } from "../helpers/platform";
import { awsJson, createActive, createFunctionBody, fn, newTenant, signed } from "../helpers/platform";

// Every invocation's lines reach the function's log group (off the hot path),
// readable through the CloudWatch Logs API by the function's tenant only.

async function filterEvents(key: TenantKey, logGroupName: string, filterPattern = "") {
  return awsJson(key, "logs", "Logs_20140328.FilterLogEvents", { logGroupName, filterPattern });
}

/** Polls FilterLogEvents until `done` holds (logs are written a moment after the invoke answers). */
async function eventsWhen(key: TenantKey, group: string, done: (messages: string[]) => boolean): Promise<string[]> {
  let messages: string[] = [];
  for (let i = 0; i < 50; i++) {
    const res = await filterEvents(key, group);
    if (res.status === 200) {
      messages = (res.body.events as Array<{ message: string }>).map((e) => e.message);
      if (done(messages)) return messages;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return messages;
}

describe("invocation logs", () => {
  it("stores START, console lines, END and REPORT in /aws/lambda/<name>, in an environment stream", async () => {
    const key = await newTenant();
    const name = `logged-${Date.now()}`;
    await createActive(key, createFunctionBody(name, {
      "index.js": `exports.handler = async (event) => { console.log("hello", event.who); console.error("careful"); return "ok"; };`,
    }));
    const invoked = await signed(key, "POST", `${fn(name)}/invocations`, { who: "logs" });
    expect(invoked.status).toBe(200);
    const requestId = invoked.headers.get("x-amzn-RequestId") ?? "";

    const messages = await eventsWhen(key, `/aws/lambda/${name}`, (m) => m.some((l) => l.startsWith("REPORT ")));
    expect(messages.find((l) => l.startsWith("START "))).toBe(`START RequestId: ${requestId} Version: $LATEST`);
    expect(messages.some((l) => /\tINFO\thello logs$/.test(l) && l.includes(requestId))).toBe(true);
    expect(messages.some((l) => /\tERROR\tcareful$/.test(l))).toBe(true);
    expect(messages).toContain(`END RequestId: ${requestId}`);

    const streams = await awsJson(key, "logs", "Logs_20140328.DescribeLogStreams", { logGroupName: `/aws/lambda/${name}` });
    const streamNames = (streams.body.logStreams as Array<{ logStreamName: string }>).map((s) => s.logStreamName);
    expect(streamNames).toHaveLength(1);
    expect(streamNames[0]).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);

    // Another tenant cannot read them: the group answers as a missing one.
    const other = await newTenant();
    const foreign = await filterEvents(other, `/aws/lambda/${name}`);
    expect(foreign.status).toBe(400);
    expect(foreign.body.__type).toBe("ResourceNotFoundException");
  });
});
