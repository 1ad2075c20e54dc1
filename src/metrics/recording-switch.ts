/**
 * METRICS_RECORDING, a benchmark and diagnostic switch (wrangler.toml): "on"
 * (the default, and what any other value means), "off" (no metric is
 * recorded), or "off:<prefix>" (functions whose name starts with <prefix>
 * record nothing, every other function does). The prefix form lets
 * `bench:invoke` measure what recording costs, row (c) against (c-nomet),
 * on one `wrangler dev` in interleaved rounds. Parsed once per isolate (the
 * raw value is compared, so a changed binding is read again).
 */

export type RecordingSwitch = { kind: "on" } | { kind: "off" } | { kind: "off-for-prefix"; prefix: string };

export function parseRecordingSwitch(raw: string | undefined): RecordingSwitch {
  const value = raw?.trim() ?? "";
  if (value === "off") return { kind: "off" };
  if (value.startsWith("off:") && value.length > 4) return { kind: "off-for-prefix", prefix: value.slice(4) };
  return { kind: "on" };
}

export function recordsFor(which: RecordingSwitch, functionName: string): boolean {
  if (which.kind === "on") return true;
  if (which.kind === "off") return false;
  return !functionName.startsWith(which.prefix);
}

let cachedRaw: string | undefined;
let cached: RecordingSwitch = { kind: "on" };

/** Whether this function's metrics are recorded, under the platform's METRICS_RECORDING. */
export function metricsRecordedFor(env: Env, functionName: string): boolean {
  const raw = env.METRICS_RECORDING;
  if (raw !== cachedRaw) {
    cachedRaw = raw;
    cached = parseRecordingSwitch(raw);
  }
  return recordsFor(cached, functionName);
}
