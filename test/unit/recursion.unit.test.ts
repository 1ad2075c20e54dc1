import { describe, expect, it } from "vitest";
import { lineageOfInvocation, MAX_RECURSIVE_INVOCATIONS, mergeLineages, NO_LINEAGE, stopsRecursion } from "../../src/invoke/recursion";
import { arnHash, MAX_LINEAGE_ENTRIES } from "../../src/runtime/lineage";
import type { LineageCounts } from "../../src/runtime/lineage";

const arn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;

/** Runs `names` one after another, each caused by the one before, and returns each invocation's chain. */
function chain(names: string[]): LineageCounts[] {
  const out: LineageCounts[] = [];
  let incoming = NO_LINEAGE;
  for (const name of names) {
    incoming = lineageOfInvocation(incoming, arn(name));
    out.push(incoming);
  }
  return out;
}

describe("recursive loop detection", () => {
  it("stops a function that invokes itself on its 17th run, not before", () => {
    const runs = chain(Array.from({ length: 20 }, () => "loop"));
    const stopped = runs.map((lineage) => stopsRecursion(lineage, arn("loop"), "Terminate"));
    expect(stopped.indexOf(true)).toBe(MAX_RECURSIVE_INVOCATIONS);
    expect(stopped.slice(0, MAX_RECURSIVE_INVOCATIONS).every((s) => !s)).toBe(true);
  });

  it("stops a loop through two functions (A → B → A …) at A's 17th run", () => {
    const names = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? "a" : "b"));
    const runs = chain(names);
    const first = runs.findIndex((lineage, i) => stopsRecursion(lineage, arn(names[i] ?? ""), "Terminate"));
    expect(first).toBe(2 * MAX_RECURSIVE_INVOCATIONS);
    expect(names[first]).toBe("a");
  });

  it("never stops with Allow", () => {
    const runs = chain(Array.from({ length: 50 }, () => "loop"));
    expect(runs.some((lineage) => stopsRecursion(lineage, arn("loop"), "Allow"))).toBe(false);
  });

  it("never stops a long chain of different functions", () => {
    const names = Array.from({ length: 40 }, (_, i) => `step-${i}`);
    const runs = chain(names);
    expect(runs.some((lineage, i) => stopsRecursion(lineage, arn(names[i] ?? ""), "Terminate"))).toBe(false);
    // Only the largest entries are kept, and always the function's own.
    for (const lineage of runs) expect(Object.keys(lineage).length).toBeLessThanOrEqual(MAX_LINEAGE_ENTRIES);
    expect(runs.at(-1)?.[arnHash(arn("step-39"))]).toBe(1);
  });

  it("never stops a fan-out: many invocations caused by one are each one level on", () => {
    const parent = lineageOfInvocation(NO_LINEAGE, arn("fan"));
    const children = Array.from({ length: 100 }, () => lineageOfInvocation(parent, arn("worker")));
    expect(children.every((c) => c[arnHash(arn("worker"))] === 1 && !stopsRecursion(c, arn("worker"), "Terminate"))).toBe(true);
  });

  it("merges a batch's chains by the largest count per function", () => {
    const merged = mergeLineages([{ aaaaaaaa: 3, bbbbbbbb: 1 }, { bbbbbbbb: 7 }, NO_LINEAGE]);
    expect(merged).toEqual({ aaaaaaaa: 3, bbbbbbbb: 7 });
    expect(mergeLineages([])).toEqual({});
  });
});
