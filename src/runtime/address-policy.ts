/**
 * Which egress destinations user code must not reach: loopback, private,
 * link-local (cloud metadata at 169.254.169.254), unique-local, CGNAT,
 * unspecified, multicast and reserved addresses, and names that by
 * convention only resolve inside a network (localhost, *.local, *.internal).
 * Pure: no I/O, so it is unit-tested in isolation and used by the egress
 * gateway (src/runtime/egress-gateway.ts).
 *
 * What this cannot see: a public hostname whose DNS record points at a
 * private address (e.g. `127.0.0.1.nip.io`, or a name an attacker controls
 * and re-points — DNS rebinding). A Worker has no DNS API and fetch() resolves
 * names inside the runtime, so only literal addresses and well-known private
 * names are refused. On Cloudflare, fetch() from a Worker does not reach the
 * account's private network anyway; this check matters most under
 * `wrangler dev`, where workerd's fetch() is the developer machine's network.
 *
 * Numeric tricks (`http://2130706433/`, `http://0x7f.1/`, `http://0177.0.0.1/`,
 * `http://127.1/`, `http://[::ffff:127.0.0.1]/`) need no code here: the WHATWG
 * URL parser already rewrites special-scheme hosts to a canonical dotted quad
 * or compressed IPv6 form, which is what we inspect (unit tests prove it).
 */

/** True when `url` can be fetched over the network: http or https only. */
export function isHttpUrl(url: URL): boolean {
  return url.protocol === "http:" || url.protocol === "https:";
}

/**
 * True when `url` must not be fetched by user code unless private egress is
 * allowed. Anything that is not http(s) counts as private: fail closed.
 */
export function isPrivateDestination(url: URL): boolean {
  if (!isHttpUrl(url)) return true;
  // A trailing dot names the same host ("localhost." is localhost).
  const host = url.hostname.toLowerCase().replace(/\.+$/, "");
  if (host === "") return true;
  if (host.startsWith("[")) {
    const groups = parseIPv6(host.slice(1, -1));
    // An unparseable bracketed host cannot be fetched; refuse rather than guess.
    return groups === null || isPrivateIPv6(groups);
  }
  const v4 = parseDottedQuad(host);
  if (v4 !== null) return isPrivateIPv4(v4);
  return isPrivateName(host);
}

const PRIVATE_SUFFIXES = [".localhost", ".local", ".internal"];

function isPrivateName(host: string): boolean {
  // localhost: RFC 6761; .local: mDNS (RFC 6762); .internal: reserved for
  // private use (ICANN 2024) and used by cloud metadata
  // (metadata.google.internal).
  return host === "localhost" || PRIVATE_SUFFIXES.some((suffix) => host.endsWith(suffix));
}

/** "a.b.c.d" with decimal octets → 32-bit number; anything else → null. */
function parseDottedQuad(host: string): number | null {
  const parts = host.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

/** [network, prefix length] pairs, IPv4. */
const PRIVATE_V4: ReadonlyArray<readonly [number, number]> = [
  [ipv4(0, 0, 0, 0), 8], // "this network", incl. 0.0.0.0 (reaches localhost on Linux)
  [ipv4(10, 0, 0, 0), 8], // RFC 1918
  [ipv4(100, 64, 0, 0), 10], // CGNAT, RFC 6598 (also Alibaba's metadata 100.100.100.200)
  [ipv4(127, 0, 0, 0), 8], // loopback
  [ipv4(169, 254, 0, 0), 16], // link-local, incl. cloud metadata 169.254.169.254
  [ipv4(172, 16, 0, 0), 12], // RFC 1918
  [ipv4(192, 0, 0, 0), 24], // IETF protocol assignments
  [ipv4(192, 168, 0, 0), 16], // RFC 1918
  [ipv4(198, 18, 0, 0), 15], // benchmarking, never routed publicly
  [ipv4(224, 0, 0, 0), 3], // multicast 224/4 and reserved 240/4, incl. broadcast
];

function ipv4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function isPrivateIPv4(address: number): boolean {
  return PRIVATE_V4.some(([network, prefix]) => {
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return ((address & mask) >>> 0) === network;
  });
}

/**
 * Compressed IPv6 text (as the URL parser emits it; an embedded dotted quad is
 * accepted too) → eight 16-bit groups; null when it is not an IPv6 address.
 */
function parseIPv6(text: string): number[] | null {
  // Rewrite a trailing dotted quad as the two hex groups it stands for.
  const lastColon = text.lastIndexOf(":");
  const v4 = parseDottedQuad(text.slice(lastColon + 1));
  const source = v4 === null ? text : `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  const halves = source.split("::");
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0]);
  const rest = parseGroups(halves[1]);
  if (head === null || rest === null) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const missing = 8 - head.length - rest.length;
  if (missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...rest];
}

/** "a:b:c" → [0xa, 0xb, 0xc]; "" or absent → []; null when malformed. */
function parseGroups(part: string | undefined): number[] | null {
  if (part === undefined || part === "") return [];
  const out: number[] = [];
  for (const group of part.split(":")) {
    if (!/^[0-9a-f]{1,4}$/.test(group)) return null;
    out.push(parseInt(group, 16));
  }
  return out;
}

function isPrivateIPv6(g: number[]): boolean {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const embeddedV4 = ((g6 << 16) | g7) >>> 0;
  const firstFiveZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  // ::/96 holds :: (unspecified), ::1 (loopback) and the deprecated
  // IPv4-compatible ::a.b.c.d, none of which is a public destination.
  if (firstFiveZero && g5 === 0) return true;
  // IPv4-mapped ::ffff:a.b.c.d reaches the IPv4 address it embeds.
  if (firstFiveZero && g5 === 0xffff) return isPrivateIPv4(embeddedV4);
  // NAT64 64:ff9b::/96 translates to the embedded IPv4 address.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return isPrivateIPv4(embeddedV4);
  if ((g0 & 0xfe00) === 0xfc00) return true; // unique-local fc00::/7 (AWS metadata fd00:ec2::254)
  if ((g0 & 0xffc0) === 0xfe80) return true; // link-local fe80::/10
  if ((g0 & 0xffc0) === 0xfec0) return true; // site-local fec0::/10 (deprecated, still private)
  if ((g0 & 0xff00) === 0xff00) return true; // multicast ff00::/8
  return false;
}
