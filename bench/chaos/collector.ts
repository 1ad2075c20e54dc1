/**
 * The chaos run's books, kept in this Node process so they survive every
 * restart of `wrangler dev`: handlers report each side effect here through
 * egress (ALLOW_PRIVATE_EGRESS), and the async function's OnSuccess
 * destination is this server's webhook TEST DOUBLE, which in turn answers
 * normally, fails, answers slowly or never answers.
 *
 *   POST /mark/<kind>   body: JSON array of ids       → counted per kind and id
 *   POST /hook          body: an invocation record    → ok | 500 | slow | hang, in rotation;
 *                                                      an ok or slow answer counts as a delivery (kind "webhook")
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const WEBHOOK_MODES = ["ok", "fail", "slow", "hang"] as const;
export type WebhookMode = (typeof WEBHOOK_MODES)[number];
/** How long the "slow" webhook takes to answer, and how long a "hang" holds the request (past the platform's deadline). */
const WEBHOOK_SLOW_MS = 2_000;
const WEBHOOK_HANG_MS = 45_000;

export class Collector {
  /** kind → id → times reported. */
  readonly marks = new Map<string, Map<string, number>>();
  /** Webhook deliveries by the mode they were answered with; ids are the records' requestPayload.id. */
  readonly webhook = new Map<WebhookMode, string[]>(WEBHOOK_MODES.map((m) => [m, []]));
  #server: Server | undefined;
  #hookCount = 0;
  #hanging = new Set<ServerResponse>();
  url = "";

  async start(): Promise<void> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.keepAliveTimeout = 1_000;
    await new Promise<void>((resolve) => this.#server?.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  count(kind: string, id: string): number {
    return this.marks.get(kind)?.get(id) ?? 0;
  }

  /** Ids of `kind` reported more than once. */
  repeated(kind: string): number {
    let n = 0;
    for (const times of this.marks.get(kind)?.values() ?? []) if (times > 1) n += 1;
    return n;
  }

  #mark(kind: string, ids: unknown[]): void {
    let byId = this.marks.get(kind);
    if (!byId) this.marks.set(kind, (byId = new Map()));
    for (const id of ids) byId.set(String(id), (byId.get(String(id)) ?? 0) + 1);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const path = req.url ?? "/";
    if (path.startsWith("/mark/")) {
      const kind = path.slice("/mark/".length);
      let ids: unknown;
      try {
        ids = JSON.parse(text);
      } catch {
        ids = undefined;
      }
      if (!Array.isArray(ids)) {
        res.writeHead(400).end("ids expected");
        return;
      }
      this.#mark(kind, ids);
      res.end("ok");
      return;
    }
    if (path === "/hook") {
      const mode = WEBHOOK_MODES[this.#hookCount++ % WEBHOOK_MODES.length] ?? "ok";
      let id = "?";
      try {
        id = String((JSON.parse(text) as { requestPayload?: { id?: unknown } }).requestPayload?.id ?? "?");
      } catch {
        // not a record: still answered
      }
      this.webhook.get(mode)?.push(id);
      // The answers that deliver (a 2xx within the platform's 10 s): counted per event id as kind "webhook".
      if (mode === "ok" || mode === "slow") this.#mark("webhook", [id]);
      if (mode === "ok") res.end("ok");
      else if (mode === "fail") res.writeHead(500).end("webhook test double: failing on purpose");
      else if (mode === "slow") setTimeout(() => res.end("ok, slowly"), WEBHOOK_SLOW_MS);
      else {
        this.#hanging.add(res);
        setTimeout(() => {
          this.#hanging.delete(res);
          res.destroy();
        }, WEBHOOK_HANG_MS);
      }
      return;
    }
    res.writeHead(404).end();
  }
}
