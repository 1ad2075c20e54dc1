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
