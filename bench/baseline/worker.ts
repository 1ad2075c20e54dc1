/**
 * Baseline Worker for bench/invoke.ts. Every route reads the request body as
 * the event (JSON text, "" = {}) and answers the handler's result as JSON.
 *
 *   POST /plain     (a) the handler runs inline in this Worker.
 *   POST /loader    (b) the same handler as a module in a Dynamic Worker
 *                   (Worker Loader, one fixed id), called over RPC through a
 *                   minimal entrypoint: no auth, no D1, no Durable Object.
 *                   `?id=X` loads under another id (a new isolate: the
 *                   cold-load comparison row).
 *   POST /executor  (breakdown row) cellfn's own executor and runtime shim
 *                   (src/runtime/executor.ts, imported read-only) with the
 *                   same handler: init + invoke RPCs, log lines, timers, but
 *                   no auth, no metadata lookup, no lease, no egress gateway.
 *                   `?slot=N` picks the execution environment, so concurrent
 *                   callers each get their own (one invocation at a time per
 *                   environment, as cellfn's lease guarantees).
 *   POST /sdk-split (issue 11) `?variant=V&id=X`: a new bare loader isolate whose
 *                   handler does one step of importing the preinstalled SDK
 *                   (./sdk-split.ts: built-ins alone, compile alone, evaluate,
 *                   construct a client, ...).
 *   POST /do-noop   (diagnostic) one RPC to a Durable Object that does nothing.
 *   POST /do-write  (diagnostic) one RPC to a Durable Object that writes one
 *                   SQLite row (the reply waits for the commit, as cellfn's
 *                   lease acquire does).
 *   POST /lease     (diagnostic) cellfn's lease alone: AssignmentPartition
 *                   .acquire (which takes a TenantQuota slot) on the critical
 *                   path and .release in waitUntil, as src/invoke/run.ts
 *                   does, with cellfn's own Durable Object classes.
 *   POST /quota     (diagnostic) the TenantQuota half of the lease alone.
 *   Diagnostic routes and /loader, /executor send the awaited step's
 *   server-side ms as Server-Timing.
 *   GET  /healthz
 */
import { DurableObject } from "cloudflare:workers";
import { invoke as runInEnvironment } from "../../src/runtime/executor";
import { HANDLER_SOURCE } from "../handler";
import { LOAD_EXPORT, NEEDS_EXPORT } from "../../src/runtime/markers";
import { SDK_SPLIT_ENV, isSdkSplitVariant, sdkSplitModules } from "./sdk-split";
import type { AssignmentPartition } from "../../src/invoke/assignment-partition";
import type { TenantQuota } from "../../src/invoke/tenant-quota";

export { AssignmentPartition } from "../../src/invoke/assignment-partition";
export { TenantQuota } from "../../src/invoke/tenant-quota";

export interface BaselineEnv {
  LOADER: WorkerLoader;
  PROBE: DurableObjectNamespace<BenchProbe>;
  ASSIGNMENT: DurableObjectNamespace<AssignmentPartition>;
  TENANT_QUOTA: DurableObjectNamespace<TenantQuota>;
}

/** A Durable Object with a no-op method and a one-row write (diagnostic rows). */
export class BenchProbe extends DurableObject<BaselineEnv> {
  #n = 0;

  constructor(ctx: DurableObjectState, env: BaselineEnv) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS rows (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
  }

  async noop(): Promise<number> {
    return ++this.#n;
  }

  async write(): Promise<number> {
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO rows (k, v) VALUES ('n', ?)", ++this.#n);
    return this.#n;
  }
}

/** Same compatibility settings as cellfn's Dynamic Workers (src/runtime/executor.ts). */
const COMPATIBILITY_DATE = "2026-11-01";
const COMPATIBILITY_FLAGS = ["nodejs_compat"];

/** Executor slots that ran an invocation (their environment is warm). */
const warmSlots = new Set<string>();

/** HANDLER_SOURCE's logic, inline (case a). */
const handler = async (event: unknown) => ({ ok: true, echo: event });

/**
 * HANDLER_SOURCE as cellfn's bundler (src/code/bundler.ts) wraps it, for the
 * executor rows: the runtime's modules and file table, the init-phase loader
 * and what the runtime must prepare (nothing: no built-in, no run-time require).
 */
const BUNDLED_HANDLER_SOURCE =
  `import "./shim-modules.js";\nimport { setTaskFiles } from "./shim-files.js";\n` +
  `setTaskFiles(() => (${JSON.stringify({ "index.mjs": HANDLER_SOURCE })}), () => ({}));\n` +
  `export const ${LOAD_EXPORT} = async () => ({ handler: async (event) => ({ ok: true, echo: event }) });\n` +
  `export const ${NEEDS_EXPORT} = { builtins: [], require: false };\n`;

/** The minimal entrypoint of (b): parse the event, call the handler, stringify. */
const ENTRY_SOURCE = `
import { WorkerEntrypoint } from "cloudflare:workers";
import { handler } from "./handler.js";
export default class extends WorkerEntrypoint {
  async invoke(payload) {
    const event = payload === "" ? {} : JSON.parse(payload);
    return JSON.stringify(await handler(event));
  }
}
`;

interface MinimalEntrypoint extends Rpc.WorkerEntrypointBranded {
  invoke(payload: string): Promise<string>;
}

const json = (body: string, status = 200, timing?: Record<string, number>) => {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (timing) headers["server-timing"] = Object.entries(timing).map(([name, ms]) => `${name};dur=${ms.toFixed(3)}`).join(", ");
  return new Response(body, { status, headers });
};
/**
 * Server-side ms of the awaited step (workerd's clock moves on I/O, so it
 * measures the wait for an RPC, not pure CPU); sent as Server-Timing.
 */
async function timed<T>(step: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await step();
  return [value, performance.now() - t0];
}

export default {
  async fetch(request: Request, env: BaselineEnv, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return json('{"ok":true}');
    if (request.method !== "POST") return json('{"error":"POST only"}', 405);
    const payload = await request.text();

    switch (url.pathname) {
      case "/plain": {
        const event = payload === "" ? {} : JSON.parse(payload);
        return json(JSON.stringify(await handler(event)));
      }
      case "/loader": {
        // `?id=` only for the cold-load comparison row; the warm rows use the fixed id.
        const worker = env.LOADER.get(url.searchParams.get("id") ?? "bench-fixed-id", () => ({
          compatibilityDate: COMPATIBILITY_DATE,
          compatibilityFlags: COMPATIBILITY_FLAGS,
          mainModule: "entry.js",
          modules: { "entry.js": ENTRY_SOURCE, "handler.js": HANDLER_SOURCE },
        }));
        const [body, ms] = await timed(() => worker.getEntrypoint<MinimalEntrypoint>().invoke(payload));
        return json(body, 200, { rpc: ms });
      }
      case "/sdk-split": {
        const variant = url.searchParams.get("variant") ?? "";
        if (!isSdkSplitVariant(variant)) return json('{"error":"no such variant"}', 400);
        const worker = env.LOADER.get(`sdk-split-${variant}-${url.searchParams.get("id") ?? "0"}`, () => ({
          compatibilityDate: COMPATIBILITY_DATE,
          // cellfn's flags for Dynamic Workers (src/runtime/worker-code.ts): node:http as functions get it.
          compatibilityFlags: [...COMPATIBILITY_FLAGS, "enable_nodejs_http_server_modules"],
          mainModule: "entry.js",
          modules: { "entry.js": ENTRY_SOURCE, ...sdkSplitModules(variant) },
          env: SDK_SPLIT_ENV,
        }));
        const [body, ms] = await timed(() => worker.getEntrypoint<MinimalEntrypoint>().invoke(payload));
        return json(body, 200, { rpc: ms });
      }
      case "/executor": {
        const slot = url.searchParams.get("slot") ?? "0";
        // As cellfn's lease does: an environment that ran before is invoked warm (one RPC).
        const warm = warmSlots.has(slot);
        const [result, ms] = await timed(() => runInEnvironment(
          env.LOADER,
          {
            id: `bench-executor-${slot}`,
            loadBundle: async () => BUNDLED_HANDLER_SOURCE,
            environment: {},
            egress: null,
            runtime: "nodejs22.x",
            handler: "index.handler",
            warm,
          },
          {
            requestId: crypto.randomUUID(),
            payload,
            functionName: "bench",
            functionVersion: "$LATEST",
            invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:bench",
            memoryLimitInMB: 128,
            timeoutSeconds: 3,
            logGroupName: "/aws/lambda/bench",
            logStreamName: `2026/01/01/[$LATEST]${slot}`,
          },
        ));
        if (result.reusable) warmSlots.add(slot);
        else warmSlots.delete(slot);
        const headers: Record<string, string> = { "content-type": "application/json", "server-timing": `executor;dur=${ms.toFixed(3)}` };
        if (result.functionError) headers["x-amz-function-error"] = result.functionError;
        return new Response(result.payload, { status: result.platformError ? 500 : 200, headers });
      }
      case "/do-noop":
      case "/do-write": {
        const probe = env.PROBE.get(env.PROBE.idFromName("bench"));
        const [n, ms] = await timed(() => (url.pathname === "/do-noop" ? probe.noop() : probe.write()));
        return json(JSON.stringify({ ok: true, n }), 200, { rpc: ms });
      }
      case "/lease": {
        // One partition per function, as cellfn keys it (`${tenantId}/${name}`).
        const partition = env.ASSIGNMENT.get(env.ASSIGNMENT.idFromName("bench/bench-echo"));
        const [grant, ms] = await timed(async () => await partition.acquire({
          tenantId: "bench",
          functionKey: "bench/bench-echo",
          versionKey: "$LATEST@bench",
          isolationKey: "",
          reservedConcurrency: null,
          unreservedLimit: 1000,
          timeoutMs: 3000,
        }));
        if (!grant.granted) return json(JSON.stringify({ ok: false, reason: grant.reason }), 429);
        ctx.waitUntil(partition.release(grant.leaseId, "bench", true));
        return json(JSON.stringify({ ok: true, cold: grant.cold }), 200, { acquire: ms });
      }
      case "/quota": {
        // The TenantQuota half of the lease alone: take on the critical path, give in waitUntil.
        const quota = env.TENANT_QUOTA.get(env.TENANT_QUOTA.idFromName("bench-quota-only"));
        const leaseId = crypto.randomUUID();
        const [taken, ms] = await timed(() => quota.take(leaseId, 1000, Date.now() + 33_000));
        if (!taken) return json('{"ok":false}', 429);
        ctx.waitUntil(quota.give(leaseId));
        return json('{"ok":true}', 200, { take: ms });
      }
      default:
        return json('{"error":"no such route"}', 404);
    }
  },
} satisfies ExportedHandler<BaselineEnv>;
