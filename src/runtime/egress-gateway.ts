/**
 * The `globalOutbound` of every function's Dynamic Worker: each fetch() user
 * code makes arrives here as a request, and only leaves through here. Given to
 * the Worker Loader as a loopback stub, `ctx.exports.EgressGateway({ props })`,
 * so the props are fixed by the platform when the isolate is loaded and user
 * code cannot change them.
 *
 * TCP sockets (connect()) are not implemented, so they fail: no unchecked path
 * around the address policy.
 */
import { exports, WorkerEntrypoint } from "cloudflare:workers";
import { isHttpUrl, isPrivateDestination } from "./address-policy";
import { deriveEgressSecret, lineageHeader, TRACE_HEADER, verifyInvocationToken, withoutLineage } from "./lineage";
import type { Lineage } from "./lineage";
import { INVOCATION_HEADER } from "./markers";
import { PLATFORM_HOST } from "./platform-endpoint";

export interface EgressProps {
  /** ALLOW_PRIVATE_EGRESS: true only for local development. */
  allowPrivateEgress: boolean;
  /** Unqualified ARN of the function the isolate runs; a token of another function is ignored. */
  functionArn: string;
}

export class EgressGateway extends WorkerEntrypoint<Env, EgressProps> {
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    // Throwing (rather than answering 403) makes the user's fetch() reject,
    // as it would for an unreachable host: a 403 would look like the
    // destination's own answer.
    if (!isHttpUrl(url)) {
      throw new Error(`cellfn: egress to ${url.protocol} URLs is blocked: only http and https are supported`);
    }
    const toPlatform = url.hostname === PLATFORM_HOST;
    if (!toPlatform && !this.ctx.props.allowPrivateEgress && isPrivateDestination(url)) {
      throw new Error(
        `cellfn: egress to ${url.hostname} is blocked: private and loopback addresses are not reachable from functions (set ALLOW_PRIVATE_EGRESS=true for local development)`,
      );
    }

    // Incoming request headers are immutable; copy to edit.
    const outgoing = new Request(request, { redirect: "manual" });
    const token = outgoing.headers.get(INVOCATION_HEADER);
    outgoing.headers.delete(INVOCATION_HEADER);
    const lineage = token === null ? null : await this.verify(token);
    const existing = outgoing.headers.get(TRACE_HEADER);
    if (lineage !== null) {
      outgoing.headers.set(TRACE_HEADER, lineageHeader(lineage, existing));
    } else if (existing !== null) {
      // Without a valid token nothing vouches for a Lineage field, so any
      // the user code wrote itself is dropped.
      const rest = withoutLineage(existing);
      if (rest === null) outgoing.headers.delete(TRACE_HEADER);
      else outgoing.headers.set(TRACE_HEADER, rest);
    }
    // cellfn's own APIs (the SDK's endpoint inside functions): back into
    // this Worker's fetch handler, authenticated there like any client.
    if (toPlatform) return exports.default.fetch(outgoing);
    // redirect: "manual" so that this gateway never follows a redirect on
    // its own: the user's fetch() follows it, and the next hop comes back
    // through here and is checked like the first one (a public URL that
    // redirects to 169.254.169.254 is refused).
    return fetch(outgoing);
  }

  /**
   * A missing or invalid token is not an error: user code may fetch outside
   * an invocation (module init), and then no lineage is stamped.
   */
  private async verify(token: string): Promise<Lineage | null> {
    const secret = await deriveEgressSecret(this.env.KEY_DERIVATION_SECRET);
    const lineage = await verifyInvocationToken(secret, token);
    return lineage !== null && lineage.functionArn === this.ctx.props.functionArn ? lineage : null;
  }
}
