/** The benchmarks' settings come from environment variables; this reads a number, or the default when unset or invalid. */
export function envNumber(name: string, fallback: number, allowZero = false): number {
  const raw = process.env[name];
  const value = Number(raw);
  return raw !== undefined && raw !== "" && Number.isFinite(value) && (value > 0 || (allowZero && value === 0)) ? value : fallback;
}
