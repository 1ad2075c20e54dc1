import { hash32 } from "./hash";

/**
 * Places a tenant in one of `cellCount` cells by rendezvous (highest random
 * weight) hashing: each cell scores hash(tenant, cell) and the highest wins.
 * Adding a cell moves only the tenants that now score highest on it.
 */
export function cellFor(tenantId: string, cellCount: number): number {
  if (!Number.isInteger(cellCount) || cellCount < 1) throw new RangeError(`cellCount must be a positive integer, got ${cellCount}`);
  let best = 0;
  let bestScore = -1;
  for (let cell = 0; cell < cellCount; cell++) {
    const score = hash32(`${tenantId}#${cell}`);
    if (score > bestScore) {
      best = cell;
      bestScore = score;
    }
  }
  return best;
}
