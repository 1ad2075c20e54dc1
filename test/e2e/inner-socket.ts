/**
 * The user worker's own socket under `wrangler dev`, without wrangler's proxy.
 *
 * `wrangler dev` runs two workerd processes: a proxy (wrangler's ProxyWorker,
 * a single Durable Object that holds every request in a queue and forwards it
 * with `fetch`, so that requests survive a reload) listening on `--port`, and
 * the user worker's Miniflare instance, whose entry socket listens on a port
 * Miniflare picks (port 0). On Cloudflare the edge is in front of the Worker,
 * not that proxy: under open-loop overload the proxy's one-threaded queue,
 * not cellfn, decides how long a request waits (bench:goodput).
 *
 * Wrangler does not print the inner port, so it is found from the process
 * group: the listening TCP sockets of its `workerd` processes (/proc: the
 * socket inodes each process holds, matched against /proc/net/tcp{,6}), minus
 * the proxy's own port, probed with GET /healthz; the inner entry socket is
 * the one that answers as the platform does. Miniflare's entry worker
 * accepts requests without the proxy's shared secret (then it keeps the
 * request's URL and Host as sent), so a client addresses it as it would the
 * proxy. Linux only (the harness's machines).
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { workerdPids } from "../../bench/lib/proc";

/** Inodes of the sockets process `pid` holds open. */
function socketInodes(pid: string): Set<string> {
  const inodes = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** Ports of the listening TCP sockets (state 0A) whose inode is in `inodes`. */
function listeningPorts(inodes: Set<string>): number[] {
  const ports = new Set<number>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== "0A" || !inodes.has(cols[9]!)) continue;
      ports.add(parseInt(cols[1]!.split(":")[1]!, 16));
    }
  }
  return [...ports];
}

/** The listening ports of the `workerd` processes of process group `pgid`. */
export function workerdPorts(pgid: number): number[] {
  const inodes = new Set<string>();
  for (const pid of workerdPids(pgid)) for (const inode of socketInodes(pid)) inodes.add(inode);
  return listeningPorts(inodes);
}

/**
 * The port of the user worker's entry socket in `wrangler dev`'s process
 * group `pgid`: the workerd port other than `exclude` (the proxy's port and
 * the inspector's) whose GET /healthz answers 200 with `healthBody`.
 */
export async function findInnerPort(pgid: number, exclude: number[], healthBody: string): Promise<number> {
  const candidates = workerdPorts(pgid).filter((port) => !exclude.includes(port));
  const found: number[] = [];
  await Promise.all(
    candidates.map(async (port) => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5_000) });
        if (res.status === 200 && (await res.text()) === healthBody) found.push(port);
      } catch {
        // an inspector or a socket that does not speak HTTP
      }
    }),
  );
  if (found.length !== 1) {
    throw new Error(`could not tell the user worker's socket among workerd's ports ${candidates.join(", ") || "(none)"}: ${found.length} answered /healthz as the platform does`);
  }
  return found[0]!;
}
