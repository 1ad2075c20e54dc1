/**
 * Weighted alias routing: an alias sends `weight` of its invocations to the
 * additional version and the rest to its primary version. `random` is a
 * number in [0, 1) so tests can pin the draw.
 */
export function pickAliasVersion(primary: string, weights: Record<string, number> | null, random: number): string {
  let threshold = 0;
  for (const [version, weight] of Object.entries(weights ?? {})) {
    threshold += weight;
    if (random < threshold) return version;
  }
  return primary;
}

/**
 * Provisioned concurrency on a weighted alias: its environments are split
 * between the versions by weight, as Lambda does, rounding by largest
 * remainder so the counts add up to `total` (ties go to the primary).
 * Versions whose share rounds to 0 are left out.
 */
export function splitByWeight(total: number, primary: string, weights: Record<string, number> | null): Array<{ version: string; count: number }> {
  const extra = Object.entries(weights ?? {});
  const primaryWeight = Math.max(0, 1 - extra.reduce((sum, [, w]) => sum + w, 0));
  const shares = [{ version: primary, weight: primaryWeight }, ...extra.map(([version, weight]) => ({ version, weight }))].map((s, order) => {
    const exact = s.weight * total;
    return { version: s.version, count: Math.floor(exact), remainder: exact - Math.floor(exact), order };
  });
  let left = total - shares.reduce((sum, s) => sum + s.count, 0);
  for (const share of [...shares].sort((a, b) => b.remainder - a.remainder || a.order - b.order)) {
    if (left <= 0) break;
    share.count += 1;
    left -= 1;
  }
  return shares.filter((s) => s.count > 0).map(({ version, count }) => ({ version, count }));
}
