import { describe, expect, it } from "vitest";
import { isHttpUrl, isPrivateDestination } from "../../src/runtime/address-policy";

// Each URL goes through the runtime's own WHATWG URL parser first, exactly as
// a fetch() from user code would, so the numeric-form cases below test the
// parser's normalisation as much as our policy.
const refused: string[] = [
  // IPv4 loopback and the forms the URL parser rewrites to it
  "http://127.0.0.1/",
  "http://127.255.255.254:8080/path",
  "http://2130706433/", // decimal integer
  "http://0x7f000001/", // hex integer
  "http://0x7f.1/", // hex + shortened
  "http://0177.0.0.1/", // octal
  "http://127.1/", // shortened
  "http://127.0.0.1./", // trailing dot
  "http://%31%32%37.0.0.1/", // percent-encoded digits
  "http://１２７.０.０.１/", // full-width digits (IDNA maps them)
  // 0.0.0.0/8
  "http://0.0.0.0/",
  "http://0/",
  "http://0.1.2.3/",
  // RFC 1918
  "http://10.0.0.1/",
  "http://10.255.255.255/",
  "http://172.16.0.1/",
  "http://172.31.255.255/",
  "http://192.168.0.1/",
  "http://192.168.255.255/",
  // link-local and cloud metadata
  "http://169.254.169.254/latest/meta-data/",
  "http://169.254.0.1/",
  "http://0xa9fea9fe/", // 169.254.169.254 as hex
  // CGNAT 100.64/10
  "http://100.64.0.1/",
  "http://100.127.255.255/",
  "http://100.100.100.200/",
  // multicast, reserved, broadcast
  "http://224.0.0.1/",
  "http://239.255.255.250/",
  "http://240.0.0.1/",
  "http://255.255.255.255/",
  // IPv6
  "http://[::1]/",
  "http://[0:0:0:0:0:0:0:1]/",
  "http://[::]/",
  "http://[fc00::1]/",
  "http://[fd00:ec2::254]/", // AWS IPv6 metadata
  "http://[fdff:ffff::1]/",
  "http://[fe80::1]/",
  "http://[febf::1]/",
  "http://[fec0::1]/",
  "http://[ff02::1]/",
  "http://[::ffff:127.0.0.1]/", // IPv4-mapped (parser prints ::ffff:7f00:1)
  "http://[::ffff:7f00:1]/",
  "http://[::ffff:10.0.0.1]/",
  "http://[::ffff:169.254.169.254]/",
  "http://[::ffff:192.168.1.1]/",
  "http://[::127.0.0.1]/", // IPv4-compatible (deprecated)
  "http://[64:ff9b::127.0.0.1]/", // NAT64 of loopback
  "https://[::1]:8443/",
  // names
  "http://localhost/",
  "http://LOCALHOST:8787/",
  "http://localhost./",
  "http://ｌｏｃａｌｈｏｓｔ/", // full-width letters (IDNA maps them)
  "http://api.localhost/",
  "http://printer.local/",
  "http://metadata.google.internal/computeMetadata/v1/",
  "http://db.corp.internal/",
  // not http(s): fail closed
  "ftp://example.com/",
  "file:///etc/passwd",
  "ws://example.com/",
  "data:text/plain,hi",
  "gopher://example.com/",
];

const allowed: string[] = [
  "http://example.com/",
  "https://example.com:8443/x?y=1",
  "https://api.github.com/",
  "http://1.1.1.1/",
  "http://8.8.8.8/",
  "http://126.255.255.255/", // just below 127/8
  "http://128.0.0.1/", // just above 127/8
  "http://9.255.255.255/", // just below 10/8
  "http://11.0.0.1/", // just above 10/8
  "http://172.15.255.255/", // just below 172.16/12
  "http://172.32.0.1/", // just above 172.16/12
  "http://192.167.255.255/",
  "http://192.169.0.1/",
  "http://169.253.255.255/",
  "http://169.255.0.1/",
  "http://100.63.255.255/", // just below 100.64/10
  "http://100.128.0.1/", // just above 100.64/10
  "http://223.255.255.255/", // just below multicast
  "http://[2606:4700:4700::1111]/",
  "http://[2001:4860:4860::8888]/",
  "http://[::ffff:8.8.8.8]/", // IPv4-mapped public
  "http://[64:ff9b::808:808]/", // NAT64 of 8.8.8.8
  "http://[fbff::1]/", // just below fc00::/7
  "http://[fe00::1]/", // between fc00::/7 and fe80::/10
  "http://localhost.example.com/", // only the suffix matters
  "http://mylocal/",
  "http://example.internal.com/",
  "http://127.0.0.1.example.com/", // a name, not an address: resolves publicly or not, we cannot tell
];

describe("isPrivateDestination", () => {
  it.each(refused)("refuses %s", (url) => {
    expect(isPrivateDestination(new URL(url))).toBe(true);
  });

  it.each(allowed)("allows %s", (url) => {
    expect(isPrivateDestination(new URL(url))).toBe(false);
  });
});

describe("the URL parser normalises numeric hosts before the policy sees them", () => {
  it.each([
    ["http://2130706433/", "127.0.0.1"],
    ["http://0x7f.1/", "127.0.0.1"],
    ["http://0177.0.0.1/", "127.0.0.1"],
    ["http://127.1/", "127.0.0.1"],
    ["http://0/", "0.0.0.0"],
    ["http://[::ffff:127.0.0.1]/", "[::ffff:7f00:1]"],
    ["http://[0:0:0:0:0:0:0:1]/", "[::1]"],
  ])("%s has hostname %s", (url, hostname) => {
    expect(new URL(url).hostname).toBe(hostname);
  });
});

describe("isHttpUrl", () => {
  it.each([
    ["http://example.com/", true],
    ["https://example.com/", true],
    ["ftp://example.com/", false],
    ["file:///etc/passwd", false],
    ["ws://example.com/", false],
  ])("%s → %s", (url, expected) => {
    expect(isHttpUrl(new URL(url))).toBe(expected);
  });
});
