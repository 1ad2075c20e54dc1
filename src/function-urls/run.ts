/** One invocation of a URL's function through the shared invoke path (src/invoke/run.ts), BUFFERED or streamed. */
import type { InvokeOutcome } from "../invoke/run";
import { invokeSync } from "../invoke/run";
import type { InvokeTarget } from "../invoke/target";
import type { TenantScope } from "../services/scope";

export interface UrlRun {
  scope: TenantScope;
  target: InvokeTarget;
  requestId: string;
  payload: string;
  waitUntil: (promise: Promise<unknown>) => void;
}

export function runInvocation(run: UrlRun, onStream?: (body: ReadableStream<Uint8Array>, contentType: string) => void): Promise<InvokeOutcome> {
  const running = invokeSync(run.scope, run.target, {
    requestId: run.requestId,
    payload: run.payload,
    tenantId: undefined,
    clientContext: undefined,
    lineageDepth: 1,
    waitUntil: run.waitUntil,
    ...(onStream ? { onStream } : {}),
  });
  // The invocation (and its lease's release) finishes even if the client goes away.
  run.waitUntil(running.then(noop, noop));
  return running;
}

function noop(): void {}
