/**
 * Linux /proc accounting shared by the benchmarks (jiffies, USER_HZ = 100):
 * the machine's busy time, this process's, and its descendants' (wrangler,
 * workerd, esbuild).
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** A /proc stat line as fields: [comm, state, ppid, ...] (fields[12..15] = utime stime cutime cstime). */
export function readStat(file: string): string[] | undefined {
  try {
    const stat = readFileSync(file, "utf8");
    return [stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), ...stat.slice(stat.lastIndexOf(")") + 2).split(" ")];
  } catch {
    return undefined; // gone meanwhile
  }
}

export interface ProcTable {
  /** Busy jiffies of the whole machine (all but idle and iowait). */
  total: number;
  /** Busy jiffies of this process (children it waited for included). */
  own: number;
  /** This process's descendants and their busy jiffies. */
  descendants: Array<{ pid: number; used: number }>;
}

/** Throws when /proc cannot be read (not Linux). */
export function procTable(): ProcTable {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const total = cpu.slice(0, 8).reduce((n, v, i) => (i === 3 || i === 4 ? n : n + v), 0);
  const parent = new Map<number, number>();
  const used = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = readStat(`/proc/${entry}/stat`);
    if (!fields) continue;
    parent.set(Number(entry), Number(fields[2]));
    used.set(Number(entry), Number(fields[12]) + Number(fields[13]) + Number(fields[14]) + Number(fields[15]));
  }
  const descendants: ProcTable["descendants"] = [];
  for (const [pid, jiffies] of used) {
    if (pid === process.pid) continue;
    for (let p = parent.get(pid), hops = 0; p !== undefined && p > 1 && hops < 64; p = parent.get(p), hops++) {
      if (p === process.pid) {
        descendants.push({ pid, used: jiffies });
        break;
      }
    }
  }
  return { total, own: used.get(process.pid) ?? 0, descendants };
}

/**
 * Busy jiffies of the main thread of each workerd process among this
 * process's descendants (wrangler dev's proxy and the user worker's): the
 * thread that runs every request, isolate and Durable Object of the process
 * (V8's helper threads, garbage collection and compilation, are not counted).
 */
export function workerdMainThreadJiffies(): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const { pid } of procTable().descendants) {
    const fields = readStat(`/proc/${pid}/task/${pid}/stat`);
    if (fields?.[0] === "workerd") byPid.set(pid, Number(fields[12]) + Number(fields[13]));
  }
  return byPid;
}

/**
 * The busiest workerd main thread between two `workerdMainThreadJiffies()`
 * readings, as a fraction of its time over `seconds` (1: never idle): the
 * user worker's thread.
 */
export function busiestWorkerdShare(before: Map<number, number>, after: Map<number, number>, seconds: number): number {
  let most = 0;
  for (const [pid, used] of after) most = Math.max(most, used - (before.get(pid) ?? used));
  return most / 100 / seconds;
}

/** Process ids of the workerd processes in process group `pgid` (wrangler dev's). */
export function workerdPids(pgid: number): string[] {
  return readdirSync("/proc").filter((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    const fields = readStat(`/proc/${entry}/stat`);
    return fields !== undefined && fields[0] === "workerd" && Number(fields[3]) === pgid;
  });
}

/** Resident memory (bytes) and open file descriptors of the workerd processes in process group `pgid`. */
export function workerdUsage(pgid: number): { rssBytes: number; fds: number } {
  let rssBytes = 0;
  let fds = 0;
  for (const pid of workerdPids(pgid)) {
    try {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      rssBytes += Number(kb ?? 0) * 1024;
      fds += readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      // gone meanwhile
    }
  }
  return { rssBytes, fds };
}

/** A durable execution object's SQLite database as workerd opens it under wrangler dev's state directory. */
export const DURABLE_EXECUTION_DB = /DurableExecution\/[0-9a-f]+\.sqlite$/;

/** Open file descriptors of the workerd processes in process group `pgid` whose target matches `target` (e.g. one Durable Object class's SQLite files). */
export function workerdOpenFiles(pgid: number, target: RegExp): number {
  let count = 0;
  for (const pid of workerdPids(pgid)) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          if (target.test(readlinkSync(`/proc/${pid}/fd/${fd}`))) count += 1;
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      // gone meanwhile
    }
  }
  return count;
}

/** Resident memory (bytes) of the workerd processes in process group `pgid`. */
export function workerdRss(pgid: number): number {
  return workerdUsage(pgid).rssBytes;
}
