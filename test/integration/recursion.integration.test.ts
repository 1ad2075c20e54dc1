/**
 * Recursive loop detection (issue 18) inside workerd: Put/GetFunctionRecursionConfig
 * as Lambda answers them, tenant isolation of both, and the sync invoke path
 * stopping an invocation whose chain (the Lineage of X-Amzn-Trace-Id, as the
 * egress gateway stamps it on a function's own calls) already ran the
 * function 16 times. The loops themselves (async, SQS) run end to end in
 * test/e2e/recursion.e2e.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_RECURSIVE_INVOCATIONS } from "../../src/invoke/recursion";
import { arnHash } from "../../src/runtime/lineage";
import type { TenantKey } from "../helpers/platform";
import { createActive, createFunctionBody, errorOf, newTenant, signed } from "../helpers/platform";

const config = (name: string) => `/2024-08-31/functions/${encodeURIComponent(name)}/recursion-config`;
const ECHO = { "index.js": "exports.handler = async (event) => event;" };

let a: TenantKey;
let b: TenantKey;

beforeAll(async () => {
  a = await newTenant("full", "recursion-a");
  b = await newTenant("full", "recursion-b");
  await createActive(a, createFunctionBody("looper", ECHO));
  await createActive(a, createFunctionBody("allowed", ECHO));
});

/** Invokes `name` as the `runs + 1`th run of it in one chain. */
function invokeAfter(name: string, runs: number, extra: Record<string, number> = {}): Promise<Response> {
  const hash = arnHash(`arn:aws:lambda:us-east-1:${a.accountId}:function:${name}`);
  const lineage = Object.entries({ [hash]: runs, ...extra })
    .map(([h, n]) => `${h}:${n}`)
    .join("|");
  const trace = `Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=${lineage}`;
  return signed(a, "POST", `/2015-03-31/functions/${name}/invocations`, { hello: "loop" }, { "X-Amzn-Trace-Id": trace });
}

describe("recursion config", () => {
  it("is Terminate by default and Allow after PutFunctionRecursionConfig", async () => {
    const res = await signed(a, "GET", config("allowed"));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ RecursiveLoop: "Terminate" });
    const put = await signed(a, "PUT", config("allowed"), { RecursiveLoop: "Allow" });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ RecursiveLoop: "Allow" });
    expect(await (await signed(a, "GET", config(`arn:aws:lambda:us-east-1:${a.accountId}:function:allowed`))).json()).toEqual({ RecursiveLoop: "Allow" });
  });

  it("refuses values outside the enum with Lambda's validation message", async () => {
    const res = await signed(a, "PUT", config("looper"), { RecursiveLoop: "Sometimes" });
    expect(await errorOf(res)).toEqual({
      status: 400,
      type: "ValidationException",
      message: "1 validation error detected: Value 'Sometimes' at 'recursiveLoop' failed to satisfy constraint: Member must satisfy enum value set: [Terminate, Allow]",
    });
    const missing = await signed(a, "PUT", config("looper"), {});
    expect((await errorOf(missing)).type).toBe("ValidationException");
  });

  it("answers 404 for a function that does not exist", async () => {
    const res = await signed(a, "GET", config("nobody"));
    expect(await errorOf(res)).toMatchObject({ status: 404, type: "ResourceNotFoundException" });
  });

  it("never lets another tenant read or change a function's setting", async () => {
    for (const name of ["looper", `arn:aws:lambda:us-east-1:${a.accountId}:function:looper`]) {
      const read = await signed(b, "GET", config(name));
      expect(read.status).toBeGreaterThanOrEqual(400);
      expect(await read.text()).not.toContain("Terminate");
      const write = await signed(b, "PUT", config(name), { RecursiveLoop: "Allow" });
      expect(write.status).toBeGreaterThanOrEqual(400);
    }
    expect(await (await signed(a, "GET", config("looper"))).json()).toEqual({ RecursiveLoop: "Terminate" });
  });
});

describe("sync invoke in a chain", () => {
  it("runs the 16th run of a function in one chain and stops the 17th with RecursiveInvocationException", async () => {
    const sixteenth = await invokeAfter("looper", MAX_RECURSIVE_INVOCATIONS - 1);
    expect(sixteenth.status).toBe(200);
    expect(await sixteenth.json()).toEqual({ hello: "loop" });
    const seventeenth = await invokeAfter("looper", MAX_RECURSIVE_INVOCATIONS);
    expect(await errorOf(seventeenth)).toEqual({
      status: 400,
      type: "RecursiveInvocationException",
      message: "Lambda has detected your function being invoked in a recursive loop with other AWS resources and stopped your function's invocation.",
    });
  });

  it("only counts the function's own runs: other functions deep in the chain do not stop it", async () => {
    const res = await invokeAfter("looper", 3, { deadbeef: 40, "0badc0de": 99 });
    expect(res.status).toBe(200);
  });

  it("lets a function set to Allow run however deep the chain", async () => {
    const res = await invokeAfter("allowed", 100);
    expect(res.status).toBe(200);
  });
});
