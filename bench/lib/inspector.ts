/**
 * The platform worker's V8 inspector over CDP (Node's built-in WebSocket client), through
 * wrangler dev's inspector proxy (Platform.inspectorPort), for the memory
 * benches.
 * Used to read a worker's heap (after a forced GC) and to take heap
 * snapshots whose per-constructor totals can be compared before / after,
 * and by `npm run profile:invoke` for CPU profiles.
 */

/**
 * wrangler's inspector proxy (miniflare's InspectorProxyController) closes an
 * upgrade whose Origin is not a DevTools host or loopback, and asks for one
 * when the client sends a User-Agent — which Node's WebSocket (undici) always
 * does. undici takes extra request headers in its second argument (not in the
 * WHATWG constructor's type, hence the cast).
 */
const LOOPBACK_ORIGIN = { headers: { origin: "http://127.0.0.1" } };

export interface InspectorTarget {
  id: string;
  title: string;
  webSocketDebuggerUrl: string;
}

export async function inspectorTargets(address: string): Promise<InspectorTarget[]> {
  const res = await fetch(`http://${address}/json/list`);
  return (await res.json()) as InspectorTarget[];
}

/** One CDP session on one target. */
export class Cdp {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #listeners = new Map<string, (params: unknown) => void>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener("message", (event) => {
      const msg = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: unknown };
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(msg.error.message));
        else p?.resolve(msg.result);
      } else if (msg.method) this.#listeners.get(msg.method)?.(msg.params);
    });
  }

  static open(url: string): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, LOOPBACK_ORIGIN as unknown as string[]);
      ws.addEventListener("open", () => resolve(new Cdp(ws)), { once: true });
      ws.addEventListener("error", () => reject(new Error(`could not open ${url}`)), { once: true });
    });
  }

  send<T = unknown>(method: string, params: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  on(method: string, listener: (params: unknown) => void): void {
    this.#listeners.set(method, listener);
  }

  /** Used heap bytes after a full GC. */
  async heapUsedAfterGc(): Promise<number> {
    await this.send("HeapProfiler.collectGarbage");
    const { usedSize } = await this.send<{ usedSize: number; totalSize: number }>("Runtime.getHeapUsage");
    return usedSize;
  }

  /** A heap snapshot's JSON text. */
  async heapSnapshot(): Promise<string> {
    const chunks: string[] = [];
    this.on("HeapProfiler.addHeapSnapshotChunk", (p) => chunks.push((p as { chunk: string }).chunk));
    await this.send("HeapProfiler.enable");
    await this.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false, captureNumericValue: false }, 600_000);
    return chunks.join("");
  }

  close(): void {
    this.#ws.close();
  }
}

/** Self size and count per node name (constructor, or "(string)" etc.) of a heap snapshot. */
export function heapByConstructor(snapshotJson: string): Map<string, { count: number; bytes: number }> {
  const snap = JSON.parse(snapshotJson) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt] ?? 0] ?? "?";
    const name = type === "object" || type === "closure" ? (snap.strings[snap.nodes[i + nameAt] ?? 0] ?? "?") : `(${type})`;
    const row = out.get(name) ?? { count: 0, bytes: 0 };
    row.count += 1;
    row.bytes += snap.nodes[i + sizeAt] ?? 0;
    out.set(name, row);
  }
  return out;
}
