/**
 * The baseline Worker of the invoke benchmarks (bench/baseline/: a plain
 * handler, the same handler through the Worker Loader, cellfn's executor
 * alone) under its own `wrangler dev` on a free port.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { stripVTControlCharacters } from "node:util";
import { freePort, ROOT, wranglerEnv } from "../../test/e2e/harness";

const WRANGLER = path.join(ROOT, "node_modules", ".bin", "wrangler");
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Baseline {
  url: string;
  port: number;
  /** wrangler dev's process group (its workerd processes are in it). */
  pgid: number;
  output(): string;
  stop(): Promise<void>;
}

let baselineGroup: number | undefined;
let baselineStateDir: string | undefined;

/** Synchronous last-resort cleanup of the baseline Worker (signals, unexpected exit). */
export function killBaselineNow(): void {
  if (baselineGroup !== undefined) killGroup(baselineGroup, "SIGKILL");
  baselineGroup = undefined;
  if (baselineStateDir !== undefined) rmSync(baselineStateDir, { recursive: true, force: true });
  baselineStateDir = undefined;
}


function killGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** `wrangler dev --config bench/baseline/wrangler.toml` on a free port; waits for GET /healthz. */
export async function startBaseline(verbose = false): Promise<Baseline> {
  const [port, inspectorPort] = await Promise.all([freePort(), freePort()]);
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "cellfn-bench-baseline-"));
  baselineStateDir = stateDir;
  const args = [
    "dev",
    "--config", path.join("bench", "baseline", "wrangler.toml"),
    "--port", String(port),
    "--ip", "127.0.0.1",
    "--inspector-port", String(inspectorPort),
    "--persist-to", stateDir,
    "--show-interactive-dev-session=false",
  ];
  const child = spawn(WRANGLER, args, { cwd: ROOT, env: wranglerEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true });
  const pgid = child.pid;
  if (pgid === undefined) throw new Error("could not spawn wrangler dev for the baseline Worker");
  baselineGroup = pgid;
  let output = "";
  const collect = (chunk: Buffer) => {
    const text = stripVTControlCharacters(chunk.toString());
    output = (output + text).slice(-256 * 1024);
    if (verbose) process.stderr.write(text);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.on("exit", () => ((exited = true), resolve())));

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (!exited) killGroup(pgid, "SIGTERM");
      await Promise.race([exit, sleep(5_000)]);
      const deadline = Date.now() + 5_000;
      while (killGroup(pgid, 0) && Date.now() < deadline) await sleep(100);
      killGroup(pgid, "SIGKILL");
      baselineGroup = undefined;
      rmSync(stateDir, { recursive: true, force: true });
      baselineStateDir = undefined;
    })());

  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  while (true) {
    if (exited || /\[ERROR\] Build failed/.test(output) || Date.now() - started > 90_000) {
      await sleep(300);
      await stop();
      throw new Error(`the baseline Worker did not start (wrangler ${args.join(" ")}):\n${output}`);
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  return { url, port, pgid, output: () => output, stop };
}
