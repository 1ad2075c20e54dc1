/**
 * What one StartLiveTail `sessionUpdate` carries, as pure rules: CloudWatch
 * sends at most 500 events a second and samples the rest down
 * (`sessionMetadata.sampled`). cellfn also keeps an update under 1 MB, so
 * 500 lines of 256 KB cannot make one event-stream message of 128 MB.
 */

export const UPDATE_MAX_EVENTS = 500;
export const UPDATE_MAX_BYTES = 1_048_576;

export interface TailedEvent {
  ts: number;
  id: number;
  message: string;
}

/** Events in time order (then by id), sampled evenly down to the limits; `sampled` if any were left out. */
export function sessionResults<T extends TailedEvent>(events: readonly T[], maxEvents = UPDATE_MAX_EVENTS, maxBytes = UPDATE_MAX_BYTES): { events: T[]; sampled: boolean } {
  let kept = [...events].sort((a, b) => a.ts - b.ts || a.id - b.id);
  let sampled = false;
  if (kept.length > maxEvents) {
    kept = evenly(kept, maxEvents);
    sampled = true;
  }
  // UTF-16 length as the size, as the log group's reads count it; thinned evenly to the share that fits.
  for (let bytes = size(kept); kept.length > 1 && bytes > maxBytes; bytes = size(kept)) {
    kept = evenly(kept, Math.max(1, Math.min(kept.length - 1, Math.floor((kept.length * maxBytes) / bytes))));
    sampled = true;
  }
  return { events: kept, sampled };
}

function size(events: readonly TailedEvent[]): number {
  return events.reduce((n, e) => n + e.message.length, 0);
}

/** `count` items spread evenly over `items` (the first always kept). */
function evenly<T>(items: readonly T[], count: number): T[] {
  const out: T[] = [];
  for (let i = 0; i < count; i++) {
    const item = items[Math.floor((i * items.length) / count)];
    if (item !== undefined) out.push(item);
  }
  return out;
}
