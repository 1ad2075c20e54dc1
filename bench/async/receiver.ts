/**
 * A small HTTP receiver on 127.0.0.1 for `npm run bench:async`: handlers POST
 * `{ id, t }` to /start when they begin; it keeps, per event id, the handler's
 * time `t`, the time the POST arrived here and how many times it came. It may
 * hold its reply a while: that is how long the handler then runs.
 */
import http from "node:http";

export interface Start {
  /** The handler's Date.now() when it started (workerd's clock: time of the last I/O). */
  t: number;
  /** Wall-clock ms the POST arrived here. */
  at: number;
  /** How many POSTs came for this id (more than 1: the event ran again). */
  count: number;
}

export interface Receiver {
  port: number;
  starts: Map<string, Start>;
  /** POSTs that were not readable JSON with a string id and numeric t. */
  bad: number;
  close(): Promise<void>;
}

const MAX_BODY = 4096;

/**
 * `holdMs(id)`: how long to hold the reply to an event's POST (the handler awaits it,
 * so this is the handler's run time: I/O wait, no CPU). The start is recorded on arrival.
 */
export async function startReceiver(holdMs: (id: string) => number = () => 0): Promise<Receiver> {
  const receiver: Receiver = { port: 0, starts: new Map(), bad: 0, close: async () => {} };
  const server = http.createServer((req, res) => {
    if (req.method !== "POST" || req.url !== "/start") {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on("end", () => {
      const at = performance.timeOrigin + performance.now();
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id?: unknown; t?: unknown };
        if (typeof body.id !== "string" || typeof body.t !== "number") throw new Error("bad body");
        const seen = receiver.starts.get(body.id);
        if (seen) seen.count += 1;
        else receiver.starts.set(body.id, { t: body.t, at, count: 1 });
        const hold = holdMs(body.id);
        if (hold > 0) setTimeout(() => res.writeHead(204).end(), hold);
        else res.writeHead(204).end();
      } catch {
        receiver.bad += 1;
        res.writeHead(400).end();
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  receiver.port = typeof address === "object" && address ? address.port : 0;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}
