import { describe, expect, it } from "vitest";
import { cellFor } from "../../src/placement/cells";

const tenants = Array.from({ length: 4000 }, (_, i) => `tenant-${i}`);

describe("cellFor (rendezvous hashing)", () => {
  it("is deterministic and in range", () => {
    for (const t of tenants.slice(0, 100)) {
      const cell = cellFor(t, 4);
      expect(cell).toBe(cellFor(t, 4));
      expect(cell).toBeGreaterThanOrEqual(0);
      expect(cell).toBeLessThan(4);
    }
  });

  it("spreads tenants evenly over cells", () => {
    const counts = new Array<number>(4).fill(0);
    for (const t of tenants) {
      const cell = cellFor(t, 4);
      counts[cell] = (counts[cell] ?? 0) + 1;
    }
    for (const n of counts) expect(Math.abs(n - 1000)).toBeLessThan(120);
  });

  it("moves only tenants that land on the new cell when a cell is added", () => {
    let moved = 0;
    for (const t of tenants) {
      const before = cellFor(t, 4);
      const after = cellFor(t, 5);
      if (before !== after) {
        expect(after).toBe(4);
        moved++;
      }
    }
    // About a fifth of tenants should move to the fifth cell.
    expect(moved / tenants.length).toBeGreaterThan(0.15);
    expect(moved / tenants.length).toBeLessThan(0.25);
  });

  it("refuses a non-positive cell count", () => {
    expect(() => cellFor("t", 0)).toThrow(RangeError);
  });
});
