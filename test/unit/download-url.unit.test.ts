import { describe, expect, it } from "vitest";
import { codeDownloadUrl, DOWNLOAD_URL_TTL_SECONDS, refuseDownload } from "../../src/code/download-url";

const SECRET = "test-derivation-secret";
const SHA = btoa(String.fromCharCode(...new Uint8Array(32).fill(0xab)));
const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);

function parts(url: string) {
  const u = new URL(url);
  const hex = u.pathname.split("/").pop()?.replace(/\.zip$/, "") ?? "";
  return { u, hex, expires: u.searchParams.get("Expires") ?? undefined, signature: u.searchParams.get("Signature") ?? undefined };
}

describe("code download URLs (GetFunction Code.Location)", () => {
  it("names the package by its hex sha256 and expires in 10 minutes", async () => {
    const { u, hex, expires } = parts(await codeDownloadUrl(SECRET, "https://cellfn.example", SHA, NOW));
    expect(u.origin).toBe("https://cellfn.example");
    expect(hex).toBe("ab".repeat(32));
    expect(Number(expires)).toBe(NOW / 1000 + DOWNLOAD_URL_TTL_SECONDS);
  });

  it("is valid until it expires, then refused", async () => {
    const { hex, expires, signature } = parts(await codeDownloadUrl(SECRET, "https://x", SHA, NOW));
    expect(await refuseDownload(SECRET, hex, expires, signature, NOW + 599_000)).toBeNull();
    expect(await refuseDownload(SECRET, hex, expires, signature, NOW + 601_000)).toMatch(/expired/);
  });

  it("refuses another package, another expiry, another secret or no signature", async () => {
    const { hex, expires, signature } = parts(await codeDownloadUrl(SECRET, "https://x", SHA, NOW));
    expect(await refuseDownload(SECRET, "cd".repeat(32), expires, signature, NOW)).toMatch(/signature/);
    expect(await refuseDownload(SECRET, hex, String(Number(expires) + 1), signature, NOW)).toMatch(/signature/);
    expect(await refuseDownload("other-secret", hex, expires, signature, NOW)).toMatch(/signature/);
    expect(await refuseDownload(SECRET, hex, expires, undefined, NOW)).toMatch(/not valid/);
    expect(await refuseDownload(SECRET, hex, "soon", signature, NOW)).toMatch(/not valid/);
  });
});
