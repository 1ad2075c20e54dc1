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
  for (let i = 0; i < 120; i++) {
    const cfg = await fetch(`${platform.url}/2015-03-31/functions/${name}/configuration`, { headers: { authorization: `Bearer ${creds.token}` } });
    if (((await cfg.json()) as { State?: string }).State === "Active") return;
    await sleep(500);
  }
  throw new Error(`function ${name} never became Active`);
}

/** Nearest-rank percentile (NaN for no values). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
