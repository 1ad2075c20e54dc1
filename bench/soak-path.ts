/**
 * `npm run soak:path`: one path of the soak workload at a fixed rate, to find
 * which one makes workerd's memory grow (bisecting `npm run soak`). Every
 * SOAK_SAMPLE_S seconds it prints workerd's RSS and, through workerd's
 * inspector, the used V8 heap of each inspectable worker after a forced GC
 * (the platform worker, with its Durable Objects). With SOAK_SNAPSHOT=1 it
 * takes a heap snapshot of the platform worker after the first sample and at
 * the end and prints the constructors that grew most.
 *
 * SOAK_PATH: warm (sync invokes of one warm function), fresh (sync invokes
 * that each end their environment with process.exit, so every invoke loads a
 * new isolate id), throw, timeout, async, sqs, kinesis, durable, mixed (the
 * soak's mix). SOAK_RATE load ticks/s (4), SOAK_MINUTES (4). SOAK_VARS: more
 * platform variables, `NAME=value,NAME=value` (e.g. ASYNC_BACKLOG_MODE=off).
 * Each sample also prints the cells' queue depths and oldest ages
 * (GET /admin/metrics); at the end it settles for up to SOAK_SETTLE_S (300)
 * and prints the books (what was processed, dead-lettered, or not yet run).
 */
import { envNumber } from "./lib/settings";
import { Cdp, heapByConstructor, inspectorTargets } from "./lib/inspector";
import { workerdRss } from "./lib/proc";
import { formatVerdict, Session } from "./chaos/session";
import { adminFetch, type Platform } from "../test/e2e/harness";
import { DEFAULT_MIX, type Kind, type LoadOptions, runLoad } from "./chaos/workload";
import type { Mode } from "./chaos/handlers";

const PATH = process.env.SOAK_PATH ?? "warm";
const RATE = envNumber("SOAK_RATE", 4);
const MINUTES = envNumber("SOAK_MINUTES", 4);
const SAMPLE_S = envNumber("SOAK_SAMPLE_S", 30);
const SNAPSHOT = process.env.SOAK_SNAPSHOT === "1";
const SETTLE_S = envNumber("SOAK_SETTLE_S", 300);
const VARS = Object.fromEntries(
  (process.env.SOAK_VARS ?? "")
    .split(",")
    .filter((kv) => kv.includes("="))
    .map((kv) => [kv.slice(0, kv.indexOf("=")).trim(), kv.slice(kv.indexOf("=") + 1).trim()]),
);

const only = (kind: Kind): Record<Kind, number> => ({ sync: 0, async: 0, sqs: 0, kinesis: 0, durable: 0, [kind]: 1 });
const sync = (modes: Mode[]) => ({ mix: only("sync"), failureShare: 1, modes });
const PATHS: Record<string, Pick<LoadOptions, "mix" | "failureShare" | "modes">> = {
  warm: { mix: only("sync"), failureShare: 0 },
  fresh: sync(["exit"]),
  throw: sync(["throw"]),
  timeout: sync(["timeout"]),
  async: { mix: only("async"), failureShare: 0 },
  sqs: { mix: only("sqs"), failureShare: 0 },
  kinesis: { mix: only("kinesis"), failureShare: 0 },
  durable: { mix: only("durable"), failureShare: 0 },
  mixed: { mix: DEFAULT_MIX, failureShare: 0.05 },
};

async function heaps(address: string | undefined): Promise<string> {
  if (!address) return "no inspector";
  const parts: string[] = [];
  for (const t of await inspectorTargets(address).catch(() => [])) {
    const cdp = await Cdp.open(t.webSocketDebuggerUrl).catch(() => undefined);
    if (!cdp) continue;
    try {
      parts.push(`${t.title} ${((await cdp.heapUsedAfterGc()) / 1048576).toFixed(1)} MB`);
    } catch (err) {
      parts.push(`${t.title} ? (${(err as Error).message})`);
    } finally {
      cdp.close();
    }
  }
  return parts.join(", ") || "no targets";
}

/** The non-empty cell queues of GET /admin/metrics: `queue depth/oldest age s`. */
async function queues(platform: Platform): Promise<string> {
  const res = await adminFetch<string>(platform, "GET", "/admin/metrics").catch(() => undefined);
  if (!res || res.status !== 200) return `metrics unreadable (${res?.status ?? "no answer"})`;
  const text = res.text;
  const read = (family: string) =>
    new Map([...text.matchAll(new RegExp(`^${family}\\{([^}]*)\\} (\\S+)$`, "gm"))].map((m) => [m[1] ?? "", Number(m[2])]));
  const depth = read("cellfn_cell_queue_depth");
  const age = read("cellfn_cell_queue_oldest_age_seconds");
  const parts = [...depth].filter(([, d]) => d > 0).map(([labels, d]) => `${labels.replace(/[a-z_]+="([^"]*)"/g, "$1").replace(/,/g, "/")} ${d}/${age.get(labels) ?? "?"}s`);
  return parts.join(", ") || "all empty";
}

async function snapshot(address: string | undefined): Promise<Map<string, { count: number; bytes: number }> | undefined> {
  if (!address) return undefined;
  const [t] = (await inspectorTargets(address)).filter((x) => !x.title.startsWith("__"));
  if (!t) return undefined;
  const cdp = await Cdp.open(t.webSocketDebuggerUrl);
  try {
    return heapByConstructor(await cdp.heapSnapshot());
  } finally {
    cdp.close();
  }
}

async function main(): Promise<void> {
  const chosen = PATHS[PATH];
  if (!chosen) throw new Error(`SOAK_PATH must be one of ${Object.keys(PATHS).join(", ")}`);
  const session = new Session({ verbose: process.env.SOAK_VERBOSE === "1", vars: VARS });
  try {
    await session.start();
    const pgid = session.platform.pgid;
    const address = `127.0.0.1:${session.platform.inspectorPort}`;
    session.log(`[soak:path] ${PATH} at ${RATE} ticks/s for ${MINUTES} min; inspector ${address ?? "not found"}; targets: ${address ? (await inspectorTargets(address)).map((t) => t.title).join(", ") : "-"}`);
    let ticks = 0;
    const started = Date.now();
    const load = runLoad(session.target, session.ledger, { ratePerSecond: RATE, durationMs: MINUTES * 60_000, ...chosen, onTick: () => (ticks += 1) });
    let before: Map<string, { count: number; bytes: number }> | undefined;
    const samples = Math.floor((MINUTES * 60) / SAMPLE_S);
    for (let s = 1; s <= samples; s++) {
      await new Promise((r) => setTimeout(r, Math.max(0, started + s * SAMPLE_S * 1000 - Date.now())));
      console.log(`[soak:path] ${PATH} t=${s * SAMPLE_S}s ticks ${ticks} refused ${Object.values(session.ledger.refused).reduce((a, b) => a + b, 0)} workerd RSS ${(workerdRss(pgid) / 1048576).toFixed(0)} MB; heap ${await heaps(address)}`);
      console.log(`[soak:path]   queues: ${await queues(session.platform)}`);
      if (SNAPSHOT && s === 1) before = await snapshot(address);
    }
    await load;
    if (SNAPSHOT && before) {
      const after = (await snapshot(address)) ?? new Map();
      const growth = [...after].map(([name, a]) => ({ name, count: a.count - (before!.get(name)?.count ?? 0), bytes: a.bytes - (before!.get(name)?.bytes ?? 0) }));
      growth.sort((x, y) => y.bytes - x.bytes);
      console.log("heap growth by constructor (platform worker, first sample → end):");
      for (const g of growth.slice(0, 25)) console.log(`  ${g.name.slice(0, 60).padEnd(60)} ${g.count > 0 ? "+" : ""}${g.count} objects ${(g.bytes / 1024).toFixed(0)} KB`);
    }
    for (const r of session.ledger.refusalSamples.slice(0, 5)) console.log(`  refused ${r}`);
    const settling = setInterval(() => void queues(session.platform).then((q) => console.log(`[soak:path] settling; queues: ${q}`)), SAMPLE_S * 1000);
    const verdict = await session.verdict(SETTLE_S * 1000).finally(() => clearInterval(settling));
    console.log(formatVerdict(verdict));
    console.log(`[soak:path]   queues after settling: ${await queues(session.platform)}`);
  } finally {
    await session.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
