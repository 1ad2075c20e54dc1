/**
 * CPU accounting for `npm run bench:async` (Linux /proc, jiffies, USER_HZ = 100):
 * once a second, the machine's busy share, the share this process and its
 * descendants (wrangler, workerd) used, the share other processes used, and
 * the busiest single thread among the descendants (workerd runs the Worker,
 * its Durable Objects and the queue broker on few threads: one thread at 100 %
 * saturates the platform even when the machine still has an idle core).
 */
import { readdirSync } from "node:fs";
import os from "node:os";
import { procTable, readStat } from "../lib/proc";

interface Snapshot {
  at: number;
  /** Busy jiffies of the whole machine. */
  total: number;
  /** Busy jiffies of this process and its descendants. */
  ours: number;
  /** Per-thread busy jiffies of the descendants, by "pid/tid". */
  threads: Map<string, number>;
}

export interface CpuSummary {
  samples: number;
  /** Shares of the whole machine (0..1 of all CPUs). */
  machineAvg: number;
  machineMax: number;
  oursAvg: number;
  othersAvg: number;
  /** Share of one CPU used by the busiest descendant thread in each second. */
  busiestThreadAvg: number;
  busiestThreadMax: number;
  /** Command name of the busiest thread most often. */
  busiestThreadName: string;
}

const names = new Map<string, string>();

function snapshot(): Snapshot | undefined {
  try {
    const { total, own, descendants } = procTable();
    let ours = own;
    const threads = new Map<string, number>();
    for (const { pid, used } of descendants) {
      ours += used;
      let tids: string[] = [];
      try {
        tids = readdirSync(`/proc/${pid}/task`);
      } catch {
        continue;
      }
      for (const tid of tids) {
        const fields = readStat(`/proc/${pid}/task/${tid}/stat`);
        if (!fields) continue;
        const key = `${pid}/${tid}`;
        threads.set(key, Number(fields[12]) + Number(fields[13]));
        if (!names.has(key)) names.set(key, fields[0] ?? "?");
      }
    }
    return { at: performance.now(), total, ours, threads };
  } catch {
    return undefined;
  }
}

export function cpuSampler(intervalMs = 1000): { start(): void; stop(): CpuSummary } {
  let timer: NodeJS.Timeout | undefined;
  let prev: Snapshot | undefined;
  let rows: Array<{ machine: number; ours: number; others: number; busiest: number; busiestName: string }> = [];
  const tick = () => {
    const next = snapshot();
    if (prev && next) {
      const capacity = ((next.at - prev.at) / 1000) * 100 * os.cpus().length;
      const oneCpu = ((next.at - prev.at) / 1000) * 100;
      if (capacity > 0) {
        let busiest = 0;
        let busiestName = "-";
        for (const [key, jiffies] of next.threads) {
          const d = jiffies - (prev.threads.get(key) ?? jiffies);
          if (d / oneCpu > busiest) {
            busiest = d / oneCpu;
            busiestName = names.get(key) ?? "?";
          }
        }
        const total = next.total - prev.total;
        const ours = next.ours - prev.ours;
        rows.push({ machine: total / capacity, ours: ours / capacity, others: Math.max(0, total - ours) / capacity, busiest, busiestName });
      }
    }
    prev = next;
  };
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
  return {
    start() {
      if (timer) clearInterval(timer);
      rows = [];
      prev = snapshot();
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) {
        clearInterval(timer);
        timer = undefined;
        tick();
      }
      const counts = new Map<string, number>();
      for (const r of rows) counts.set(r.busiestName, (counts.get(r.busiestName) ?? 0) + 1);
      return {
        samples: rows.length,
        machineAvg: avg(rows.map((r) => r.machine)),
        machineMax: rows.length ? Math.max(...rows.map((r) => r.machine)) : Number.NaN,
        oursAvg: avg(rows.map((r) => r.ours)),
        othersAvg: avg(rows.map((r) => r.others)),
        busiestThreadAvg: avg(rows.map((r) => r.busiest)),
        busiestThreadMax: rows.length ? Math.max(...rows.map((r) => r.busiest)) : Number.NaN,
        busiestThreadName: [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "-",
      };
    },
  };
}
