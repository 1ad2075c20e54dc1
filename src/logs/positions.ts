/**
 * A position in a log group's event order (timestamp, then arrival), and the
 * tokens built on it. GetLogEvents' tokens look like CloudWatch's (`f/` or
 * `b/` and digits) because clients check the prefix; FilterLogEvents' token
 * is opaque.
 */
export interface Position {
  ts: number;
  id: number;
}

const DIGITS = 20;

export function forwardToken(p: Position): string {
  return `f/${digits(p)}`;
}

export function backwardToken(p: Position): string {
  return `b/${digits(p)}`;
}

function digits(p: Position): string {
  return `${String(p.ts).padStart(DIGITS, "0")}${String(p.id).padStart(DIGITS, "0")}`;
}

/** Reads a GetLogEvents token, or undefined if it is not one of ours. */
export function readEventToken(token: string): { direction: "forward" | "backward"; at: Position } | undefined {
  const match = /^([fb])\/(\d{20})(\d{20})$/.exec(token);
  if (!match) return undefined;
  const at = { ts: Number(match[2]), id: Number(match[3]) };
  if (!Number.isSafeInteger(at.ts) || !Number.isSafeInteger(at.id)) return undefined;
  return { direction: match[1] === "f" ? "forward" : "backward", at };
}

export function filterToken(p: Position): string {
  return `${p.ts.toString(36)}-${p.id.toString(36)}`;
}

export function readFilterToken(token: string): Position | undefined {
  const match = /^([0-9a-z]{1,12})-([0-9a-z]{1,12})$/.exec(token);
  if (!match) return undefined;
  return { ts: parseInt(match[1] ?? "", 36), id: parseInt(match[2] ?? "", 36) };
}
