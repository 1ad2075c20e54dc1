/** Lambda API steps the benchmarks share: deploy a one-file function and wait for it to be Active. */
import type { Platform, TenantCredentials } from "../../test/e2e/harness";
import { makeZipBase64 } from "../../test/fixtures/zips";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** CreateFunction (bearer auth) with `source` as index.mjs, then polls until it is Active. */
export async function deployFunction(platform: Platform, creds: TenantCredentials, name: string, source: string): Promise<void> {
  const res = await fetch(`${platform.url}/2015-03-31/functions`, {
    method: "POST",
    headers: { authorization: `Bearer ${creds.token}`, "content-type": "application/json" },
    body: JSON.stringify({
      FunctionName: name,
      Runtime: "nodejs22.x",
      Role: `arn:aws:iam::${creds.accountId}:role/bench`,
      Handler: "index.handler",
      Code: { ZipFile: makeZipBase64({ "index.mjs": source }) },
    }),
  });
  if (res.status !== 201) throw new Error(`CreateFunction: ${res.status} ${await res.text()}`);
  await waitUntilActive(platform, creds, name);
}

/** Polls GetFunctionConfiguration (bearer auth) until `name` is Active: a function is Pending until its code is bundled, and invoking it then is refused (409). */
export async function waitUntilActive(platform: Platform, creds: TenantCredentials, name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${platform.url}/2015-03-31/functions/${name}/configuration`, { headers: { authorization: `Bearer ${creds.token}` } });
    const text = await res.text();
    if (res.status === 200 && (JSON.parse(text) as { State?: string }).State === "Active") return;
    if (Date.now() > deadline) throw new Error(`function ${name} not Active after ${timeoutMs / 1000} s: HTTP ${res.status}: ${text}`);
    await sleep(500);
  }
}

/** Nearest-rank percentile (NaN for no values). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
