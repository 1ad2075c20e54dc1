import { hash32 } from "./hash";

/**
 * Shuffle sharding: maps a workload (a function) to `shardSize` of `nodes`
 * queues. Two workloads share all their nodes only rarely (hypergeometric
 * odds), so one noisy workload cannot fill every queue another one uses.
 *
 * Deterministic (seeded by the key), distinct, sorted ascending, and uniform
 * over all C(nodes, shardSize) subsets: a partial Fisher-Yates shuffle driven
 * by sfc32 seeded with 128 bits derived from the key.
 */
export function shuffleShard(key: string, nodes: number, shardSize: number): number[] {
  if (!Number.isInteger(nodes) || nodes < 1) throw new RangeError(`nodes must be a positive integer, got ${nodes}`);
  if (!Number.isInteger(shardSize) || shardSize < 1 || shardSize > nodes) {
    throw new RangeError(`shardSize must be an integer in 1..${nodes}, got ${shardSize}`);
  }
  const random = sfc32(hash32(`${key}#0`), hash32(`${key}#1`), hash32(`${key}#2`), hash32(`${key}#3`));
  const deck = Array.from({ length: nodes }, (_, i) => i);
  for (let i = 0; i < shardSize; i++) {
    const j = i + Math.floor(random() * (nodes - i));
    const picked = deck[j] ?? j;
    deck[j] = deck[i] ?? i;
    deck[i] = picked;
  }
  return deck.slice(0, shardSize).sort((a, b) => a - b);
}

/** Small fast counter PRNG (Chris Doty-Humphrey's sfc32); returns floats in [0, 1). */
function sfc32(a: number, b: number, c: number, d: number): () => number {
  let [x, y, z, w] = [a >>> 0, b >>> 0, c >>> 0, d >>> 0];
  // Discard the first outputs so nearby seeds decorrelate.
  const next = () => {
    const t = (((x + y) | 0) + w) | 0;
    w = (w + 1) | 0;
    x = y ^ (y >>> 9);
    y = (z + (z << 3)) | 0;
    z = (z << 21) | (z >>> 11);
    z = (z + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}
