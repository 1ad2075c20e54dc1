import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { buildFunctionCode } from "../../src/code/build";
import type { LeaseRequest } from "../../src/invoke/assignment-partition";
import { type ExecutionEnvironment, invoke, type InvocationRequest } from "../../src/runtime/executor";
import type { ShimEntrypoint } from "../../src/runtime/worker-code";
import { unloadEnvironment } from "../../src/runtime/unload";
import { makeZipBase64 } from "../fixtures/zips";

// A module counter: 1 on the first invocation of an isolate, then 2, 3...
const COUNTER = "let n = 0; exports.handler = async () => ({ n: ++n });";

function environment(id: string, bundle: string): ExecutionEnvironment {
  return { id, loadBundle: async () => bundle, environment: {}, egress: null, runtime: "nodejs22.x", handler: "index.handler" };
}

function request(): InvocationRequest {
  return {
    requestId: crypto.randomUUID(),
    payload: "{}",
    functionName: "unload-fn",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:unload-fn",
    memoryLimitInMB: 128,
    timeoutSeconds: 3,
    logGroupName: "/aws/lambda/unload-fn",
    logStreamName: "2026/01/01/[$LATEST]00000000000000000000000000000000",
  };
}

describe("unloading a retired environment's Dynamic Worker", () => {
  it("makes the Worker Loader forget the isolate: the same id then starts a new one", async () => {
    const { bundle } = await buildFunctionCode(env.LOADER, makeZipBase64({ "index.js": COUNTER }), "index.handler");
    const id = `unload-test-${crypto.randomUUID()}`;
    const counted = async () => JSON.parse((await invoke(env.LOADER, environment(id, bundle), request())).payload).n as number;
    expect(await counted()).toBe(1);
    expect(await counted()).toBe(2); // kept: the loader holds the isolate under its id

    expect(await unloadEnvironment(env.LOADER, id)).toBe("aborted");
    // Without the unload this would be 3: workerd never evicts a named isolate on its own.
    expect(await counted()).toBe(1);
  });

  it("ends an isolate still running a handler past its timeout", async () => {
    const { bundle } = await buildFunctionCode(env.LOADER, makeZipBase64({ "index.js": "let n = 0; exports.handler = async (e) => { n++; if (e.wait) await new Promise((r) => setTimeout(r, 60000)); return { n }; };" }), "index.handler");
    const id = `unload-test-${crypto.randomUUID()}`;
    const timedOut = await invoke(env.LOADER, environment(id, bundle), { ...request(), payload: '{"wait":true}', timeoutSeconds: 1 });
    expect(timedOut.timedOut).toBe(true);
    expect(await unloadEnvironment(env.LOADER, id)).toBe("aborted");
    const after = await invoke(env.LOADER, environment(id, bundle), request());
    expect(JSON.parse(after.payload)).toEqual({ n: 1 });
  });

  it("answers for an id the loader never loaded, and leaves nothing behind", async () => {
    const id = `unload-test-${crypto.randomUUID()}`;
    expect(await unloadEnvironment(env.LOADER, id)).toBe("aborted");
    // The placeholder is gone too: the id loads the real code afresh.
    const { bundle } = await buildFunctionCode(env.LOADER, makeZipBase64({ "index.js": COUNTER }), "index.handler");
    expect(JSON.parse((await invoke(env.LOADER, environment(id, bundle), request())).payload)).toEqual({ n: 1 });
  });

  it("happens when the assignment partition retires an environment (released as not reusable)", async () => {
    const tenantId = `t-unload-${crypto.randomUUID()}`;
    const partition = env.ASSIGNMENT.get(env.ASSIGNMENT.idFromName(`${tenantId}/f`));
    const lease: LeaseRequest = { tenantId, functionKey: `${tenantId}/f`, versionKey: "$LATEST@rev-1", isolationKey: "", reservedConcurrency: null, unreservedLimit: 10, timeoutMs: 3000 };
    const grant = await partition.acquire(lease);
    if (!grant.granted) throw new Error("no lease");
    const { bundle } = await buildFunctionCode(env.LOADER, makeZipBase64({ "index.js": COUNTER }), "index.handler");
    expect(JSON.parse((await invoke(env.LOADER, environment(grant.environmentId, bundle), request())).payload)).toEqual({ n: 1 });

    await partition.release(grant.leaseId, tenantId, false);
    // The unload runs under the partition's waitUntil: look until the loader no longer holds the isolate.
    let reloaded = false;
    for (let i = 0; i < 50 && !reloaded; i++) {
      const worker = env.LOADER.get(grant.environmentId, async () => {
        reloaded = true;
        return { compatibilityDate: "2026-11-01", mainModule: "m.js", modules: { "m.js": "export default { fetch() { return new Response(); } };" }, globalOutbound: null };
      });
      await worker.getEntrypoint<ShimEntrypoint>().takeLogs("none").catch(() => []);
      if (!reloaded) await new Promise((r) => setTimeout(r, 100));
    }
    expect(reloaded).toBe(true);
  });
});
