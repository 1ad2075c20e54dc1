/**
 * A chaos or soak session: the collector, `wrangler dev` on a persisted state
 * directory of our own (so it can be restarted), the workload's tenant and
 * resources, and the faults that act on the process (kill -9, clean stop).
 */
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type Platform, restartPlatform, startPlatform } from "../../test/e2e/harness";
import { computeBooks, durableRepeatCauses, FailureSinks, formatBooks, leasesAfterSettling, type LeaseReading, type Row, settle } from "./books";
import { Collector } from "./collector";
import { LONG_TIMEOUT_S, newLedger, setUpWorkload, type Ledger, type Target } from "./workload";

/** A lease lives for its function's timeout plus the assignment partition's grace (src/invoke/partition-rules.ts, 30 s); alarms may fire a little late. */
const MAX_LEASE_LIFETIME_MS = LONG_TIMEOUT_S * 1000 + 30_000 + 15_000;

export interface SessionOptions {
  /** CHAOS_FAULTS (src/chaos/faults.ts); empty: no injected faults. */
  faults?: string;
  verbose?: boolean;
  log?: (line: string) => void;
  /** More platform variables (e.g. ASYNC_BACKLOG_MODE=off), over the session's own. */
  vars?: Record<string, string>;
}

export interface Restart {
  hard: boolean;
  downMs: number;
}

export interface Verdict {
  rows: Row[];
  durableStepsRepeated: number;
  /** Failed invocations (by ErrorType) in the histories of the executions that repeated a step. */
  durableRepeatCauses: Record<string, number>;
  anomalies: string[];
  settled: boolean;
  settledMs: number;
  leases: { atSettle: LeaseReading; final: LeaseReading; waitedMs: number };
  injected: Record<string, number>;
  restarts: Restart[];
  lost: number;
  leasesHeld: number;
}

export class Session {
  readonly collector = new Collector();
  readonly ledger: Ledger = newLedger();
  readonly sinks = new FailureSinks();
  readonly restarts: Restart[] = [];
  /** Injected faults per site, from the wrangler output of every platform of the session. */
  readonly injected: Record<string, number> = {};
  stateDir = "";
  target!: Target;
  #vars: Record<string, string> = {};

  constructor(private readonly options: SessionOptions = {}) {}

  get platform(): Platform {
    return this.target.platform;
  }

  log(line: string): void {
    (this.options.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }

  async start(): Promise<void> {
    await this.collector.start();
    this.stateDir = await mkdtemp(path.join(os.tmpdir(), "cellfn-chaos-"));
    // Async retries a second apart instead of Lambda's minutes, so a run settles quickly.
    this.#vars = { ASYNC_RETRY_UNIT_SECONDS: "1" };
    if (this.options.faults) Object.assign(this.#vars, { CHAOS_FAULTS: this.options.faults, CHAOS_FAULTS_UNLOCK: "local-dev-only" });
    Object.assign(this.#vars, this.options.vars);
    const platform = await startPlatform({ stateDir: this.stateDir, vars: this.#vars, verbose: this.options.verbose });
    this.target = await setUpWorkload(platform, this.collector.url);
  }

  /** Stops `wrangler dev` (kill -9 when `hard`) and starts it again on the same state. */
  async restart(hard: boolean): Promise<void> {
    const old = this.target.platform;
    const started = Date.now();
    this.#countInjected(old.output());
    this.target.platform = await restartPlatform(old, { hard, vars: this.#vars, verbose: this.options.verbose });
    const downMs = Date.now() - started;
    this.restarts.push({ hard, downMs });
    this.log(`[chaos] ${hard ? "kill -9" : "clean stop"} + restart: down ${(downMs / 1000).toFixed(1)} s`);
  }

  /** Waits for everything accepted to be processed or dead-lettered, then checks leases and the books. */
  async verdict(settleTimeoutMs: number): Promise<Verdict> {
    const { settled, settledMs } = await settle(this.target, this.ledger, this.collector, this.sinks, settleTimeoutMs);
    this.log(`[chaos] ${settled ? "settled" : "NOT settled"} after ${(settledMs / 1000).toFixed(1)} s`);
    const leases = await leasesAfterSettling(this.target, MAX_LEASE_LIFETIME_MS);
    // A last look: late duplicates and failure records that arrived while leases expired.
    await this.sinks.drain(this.target);
    await this.sinks.readWebhookFailures(this.target);
    const books = computeBooks(this.ledger, this.collector, this.sinks);
    const causes = await durableRepeatCauses(this.target, this.ledger, this.collector).catch((err: unknown) => ({ [`history unreadable: ${String(err)}`]: 1 }));
    this.#countInjected(this.target.platform.output());
    const lost = books.rows.reduce((n, r) => n + r.lost, 0);
    const f = leases.final;
    return { ...books, durableRepeatCauses: causes, settled, settledMs, leases, injected: { ...this.injected }, restarts: [...this.restarts], lost, leasesHeld: f.tenantInFlight + f.leasesInFlight + f.busyEnvironments };
  }

  /** Bytes of Durable Object storage on disk, per class directory of the state dir. */
  async durableObjectBytes(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const walk = async (dir: string, into: string) => {
      for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full, into);
        else out[into] = (out[into] ?? 0) + (await stat(full).catch(() => ({ size: 0 }))).size;
      }
    };
    const root = path.join(this.stateDir, "v3", "do");
    for (const entry of await readdir(root, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) await walk(path.join(root, entry.name), entry.name.replace(/^cellfn-/, ""));
    }
    return out;
  }

  async close(): Promise<void> {
    await this.target?.platform.stop();
    await this.collector.stop();
    if (this.stateDir) await rm(this.stateDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }

  #countInjected(output: string): void {
    for (const m of output.matchAll(/chaos: injected (?:fault|reset at) ([a-z-]+)/g)) {
      const site = m[1] ?? "?";
      this.injected[site] = (this.injected[site] ?? 0) + 1;
    }
  }
}

export function formatVerdict(v: Verdict): string {
  const lines = [formatBooks(v.rows)];
  const causes = Object.entries(v.durableRepeatCauses).map(([k, n]) => `${k} ${n}`).join(", ");
  lines.push(`durable steps run more than once: ${v.durableStepsRepeated}${causes ? ` (failed invocations in those executions: ${causes})` : ""}`);
  lines.push(
    `leases after settling: tenant slots ${v.leases.atSettle.tenantInFlight}, partition leases ${v.leases.atSettle.leasesInFlight}, busy environments ${v.leases.atSettle.busyEnvironments}; ` +
      `after ${(v.leases.waitedMs / 1000).toFixed(0)} s more: ${v.leases.final.tenantInFlight} / ${v.leases.final.leasesInFlight} / ${v.leases.final.busyEnvironments}`,
  );
  lines.push(`restarts: ${v.restarts.map((r) => `${r.hard ? "kill -9" : "clean"} (${(r.downMs / 1000).toFixed(1)} s)`).join(", ") || "none"}`);
  lines.push(`injected faults: ${Object.entries(v.injected).map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`);
  lines.push(`settled: ${v.settled ? "yes" : "NO"} in ${(v.settledMs / 1000).toFixed(1)} s`);
  for (const a of v.anomalies.slice(0, 20)) lines.push(`anomaly: ${a}`);
  return lines.join("\n");
}
