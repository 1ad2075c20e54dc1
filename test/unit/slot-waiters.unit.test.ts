import { describe, expect, it } from "vitest";
import { SlotWaiters } from "../../src/invoke/slot-waiters";

const drain = (w: SlotWaiters) => {
  const out: string[] = [];
  for (let key = w.next(); key !== undefined; key = w.next()) out.push(key);
  return out;
};

describe("slot waiters", () => {
  it("wakes the earliest due first, and in arrival order among equal due times", () => {
    const w = new SlotWaiters();
    w.add("c", 300);
    w.add("a", 100);
    w.add("b1", 200);
    w.add("b2", 200);
    w.add("d", 50);
    expect(w.size).toBe(5);
    expect(drain(w)).toEqual(["d", "a", "b1", "b2", "c"]);
    expect(w.size).toBe(0);
    expect(w.next()).toBeUndefined();
  });

  it("keeps a waiter once, at its earliest due time (woken, refused again, it keeps its place)", () => {
    const w = new SlotWaiters();
    w.add("a", 100);
    w.add("b", 200);
    expect(w.add("a", 500)).toBe(true);
    expect(w.add("b", 50)).toBe(true);
    expect(w.size).toBe(2);
    expect(w.dueAtOf("a")).toBe(100);
    expect(w.dueAtOf("b")).toBe(50);
    expect(drain(w)).toEqual(["b", "a"]);
    expect(w.dueAtOf("a")).toBeUndefined();
    // Taken out and queued again with its original due time: ahead of later arrivals.
    w.add("late", 300);
    w.add("a", 100);
    expect(drain(w)).toEqual(["a", "late"]);
  });

  it("refuses new waiters beyond its bound but still moves a known one earlier", () => {
    const w = new SlotWaiters(2);
    expect(w.add("a", 100)).toBe(true);
    expect(w.add("b", 200)).toBe(true);
    expect(w.add("c", 10)).toBe(false);
    expect(w.add("b", 10)).toBe(true);
    expect(w.size).toBe(2);
    expect(drain(w)).toEqual(["b", "a"]);
    expect(w.add("c", 10)).toBe(true);
  });

  it("forgets a removed waiter", () => {
    const w = new SlotWaiters();
    w.add("a", 1);
    w.add("b", 2);
    w.remove("a");
    w.remove("missing");
    expect(drain(w)).toEqual(["b"]);
  });
});
