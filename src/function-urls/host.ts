/**
 * Which requests are function URL requests: those whose Host is
 * `<url-id>.lambda-url.<region>.<domain>` (domain the FUNCTION_URL_DOMAIN
 * setting, `localhost` by default). Pure.
 */
import { URL_ID } from "./config";

const MARKER = ".lambda-url.";

export type HostMatch =
  /** Not a function URL host: the Lambda API and the rest of the app answer. */
  | { kind: "api" }
  /** A function URL host of this deployment, with its url id. */
  | { kind: "url"; urlId: string; domainName: string }
  /** Looks like a function URL host but names none (bad id, another region or domain). */
  | { kind: "malformed" };

/** Classifies a Host header value (port stripped, case-insensitive as DNS names are). */
export function matchHost(host: string | null, region: string, domain: string): HostMatch {
  if (host === null) return { kind: "api" };
  const name = host.toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "");
  const at = name.indexOf(MARKER);
  if (at === -1) return { kind: "api" };
  const urlId = name.slice(0, at);
  const rest = name.slice(at + MARKER.length);
  if (!URL_ID.test(urlId) || rest !== `${region}.${domain.toLowerCase()}`) return { kind: "malformed" };
  return { kind: "url", urlId, domainName: name };
}
