/**
 * `npm run compat`: the compatibility matrix. Boots the platform with
 * `wrangler dev` (test/e2e/harness.ts), deploys every case of
 * test/compat/cases/ through the public API, runs it in plain Node 22 too,
 * and prints `case  result  detail`. Exit code 1 when a case fails.
 *   npm run compat -- <substring>    only the cases whose name contains it
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createTenantWithKey, lambdaClient, startPlatform } from "../test/e2e/harness";
import { ensureFixtures, judge, loadCases, runInNode, runOnCellfn } from "../test/compat/runner";

const filter = process.argv[2] ?? "";
ensureFixtures();
const cases = (await loadCases()).filter((c) => c.name.includes(filter));

const server = http.createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(req.url === "/json" ? { hello: "world" } : { path: req.url }));
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const ctx = { httpUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };

const platform = await startPlatform({ vars: { ALLOW_PRIVATE_EGRESS: "true" } });
let failures = 0;
try {
  const tenant = await createTenantWithKey(platform, "compat");
  const lambda = lambdaClient(platform, tenant);
  const rows: string[][] = [];
  for (const [index, testCase] of cases.entries()) {
    const node = (testCase.runInNode ?? testCase.expect === "node") ? await runInNode(testCase, ctx) : undefined;
    const cellfn = await runOnCellfn(lambda, testCase, ctx, index);
    const problem = judge(testCase, cellfn, node);
    if (problem !== undefined) failures++;
    rows.push([testCase.name, problem === undefined ? "PASS" : "FAIL", problem ?? ""]);
    process.stderr.write(`${problem === undefined ? "." : "F"}`);
  }
  process.stderr.write("\n");
  const width = Math.max(...rows.map(([name]) => (name ?? "").length), 4);
  console.log(`${"case".padEnd(width)}  result  detail`);
  for (const [name = "", result = "", detail = ""] of rows) console.log(`${name.padEnd(width)}  ${result.padEnd(6)}  ${detail.replace(/\s+/g, " ").slice(0, 240)}`);
  console.log(`\n${cases.length - failures}/${cases.length} cases pass`);
} finally {
  await platform.stop();
  server.close();
}
process.exitCode = failures > 0 ? 1 : 0;
