/**
 * Overload control inside workerd (issue 18): no user code is started for a
 * client that has gone, and the environment it had leased stays usable. The
 * admission limiter's rules are unit-tested (test/unit/admission); the
 * goodput it buys is measured by `npm run bench:goodput`.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { LambdaError } from "../../src/errors";
import { NO_LINEAGE } from "../../src/invoke/recursion";
import { invokeSync } from "../../src/invoke/run";
import { prepareInvoke } from "../../src/invoke/target";
import { tenantScopeById } from "../../src/services/scope";
import type { TenantKey } from "../helpers/platform";
import { createActive, createFunctionBody, newTenant } from "../helpers/platform";

const COUNTER = { "index.js": "let runs = 0; exports.handler = async () => ++runs;" };

let key: TenantKey;

beforeAll(async () => {
  key = await newTenant("full", "overload");
  await createActive(key, createFunctionBody("counter", COUNTER));
});

async function run(signal?: AbortSignal) {
  const scope = await tenantScopeById(env, key.tenantId);
  if (!scope) throw new Error("no tenant scope");
  const target = await prepareInvoke(scope, { name: "counter" }, undefined);
  const pending: Promise<unknown>[] = [];
  try {
    return await invokeSync(scope, target, {
      requestId: crypto.randomUUID(),
      payload: "{}",
      tenantId: undefined,
      clientContext: undefined,
      lineage: NO_LINEAGE,
      waitUntil: (p) => pending.push(p),
      ...(signal ? { signal } : {}),
    });
  } finally {
    await Promise.all(pending);
  }
}

describe("a client that has gone", () => {
  it("gets no user code started, and the environment serves the next invocation", async () => {
    expect((await run()).payload).toBe("1");
    const gone = new AbortController();
    gone.abort();
    const error = await run(gone.signal).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(LambdaError);
    expect((error as LambdaError).message).toBe("The client closed the request before the function started.");
    // Had the abandoned call run, this would be 3.
    const next = await run();
    expect(next.payload).toBe("2");
  });

  it("counts admitted invocations as finished however they end", async () => {
    let started = 0;
    let finished = 0;
    const admission = { started: () => started++, finished: () => finished++ };
    const scope = await tenantScopeById(env, key.tenantId);
    if (!scope) throw new Error("no tenant scope");
    const target = await prepareInvoke(scope, { name: "counter" }, undefined);
    const gone = new AbortController();
    gone.abort();
    const base = { requestId: crypto.randomUUID(), payload: "{}", tenantId: undefined, clientContext: undefined, lineage: NO_LINEAGE, waitUntil: () => {} };
    await invokeSync(scope, target, { ...base, admission });
    await invokeSync(scope, target, { ...base, requestId: crypto.randomUUID(), admission, signal: gone.signal }).catch(() => undefined);
    expect({ started, finished }).toEqual({ started: 1, finished: 2 });
  });
});
