/** One invocation of a URL's function through the shared invoke path (src/invoke/run.ts), BUFFERED or streamed. */
import { NO_LINEAGE } from "../invoke/recursion";
import type { InvokeOutcome, RunControl } from "../invoke/run";
import { invokeSync } from "../invoke/run";
import type { InvokeTarget } from "../invoke/target";
import type { TenantScope } from "../services/scope";

export interface UrlRun {
  scope: TenantScope;
  target: InvokeTarget;
  requestId: string;
  payload: string;
  /** waitUntil, the client's signal and the admission of the invocation (src/invoke/admission.ts). */
  control: RunControl;
}

export function runInvocation(run: UrlRun, onStream?: (body: ReadableStream<Uint8Array>, contentType: string) => void): Promise<InvokeOutcome> {
  const running = invokeSync(run.scope, run.target, {
    requestId: run.requestId,
    payload: run.payload,
    tenantId: undefined,
    clientContext: undefined,
    // A URL's caller is an HTTP client: Lambda tracks no loops through function URLs.
    lineage: NO_LINEAGE,
    ...run.control,
    ...(onStream ? { onStream } : {}),
  });
  // The invocation (and its lease's release) finishes even if the client goes away.
  run.control.waitUntil(running.then(noop, noop));
  return running;
}

function noop(): void {}
