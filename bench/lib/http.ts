/** The benchmarks' HTTP client: a POST to 127.0.0.1 over a keep-alive agent, with a deadline. */
import http from "node:http";

/** One benchmark case's request (bench/invoke.ts, bench/cold.ts). */
export interface Target {
  /** Host and port (loopback). */
  port: number;
  /** Path with query; `worker` is the index of the load worker (0..concurrency-1). */
  path(worker: number): string;
  /** Request headers (may sign the request). */
  headers(pathWithQuery: string, body: string): Record<string, string> | Promise<Record<string, string>>;
  body: string;
  /** Status the case answers when it worked (200, or 204 for DryRun). */
  okStatus: number;
  /** An error kind when a reply with okStatus is still wrong, else undefined. */
  check?(reply: Reply): string | undefined;
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function postLocal(
  agent: http.Agent,
  port: number,
  urlPath: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<Reply> {
  return requestLocal(agent, port, "POST", urlPath, headers, body, timeoutMs);
}

/** A request of any method to 127.0.0.1 over a keep-alive agent, with a deadline. */
export function requestLocal(
  agent: http.Agent,
  port: number,
  method: string,
  urlPath: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: "127.0.0.1", port, path: urlPath, method, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}
