import { describe, expect, it } from "vitest";
import { FAULT_SITES, FAULTS_UNLOCK_VALUE, parseFaultPlan } from "../../src/chaos/faults";

describe("the test-only fault plan (CHAOS_FAULTS)", () => {
  it("is empty unless the unlock variable has its exact value", () => {
    expect(parseFaultPlan("sqs-delete=1", undefined).size).toBe(0);
    expect(parseFaultPlan("sqs-delete=1", "yes").size).toBe(0);
    expect(parseFaultPlan("sqs-delete=1", ` ${FAULTS_UNLOCK_VALUE}`).size).toBe(0);
    expect(parseFaultPlan(undefined, FAULTS_UNLOCK_VALUE).size).toBe(0);
    expect(parseFaultPlan("  ", FAULTS_UNLOCK_VALUE).size).toBe(0);
  });

  it("reads site=probability pairs for every known site", () => {
    const spec = FAULT_SITES.map((site, i) => `${site}=${i / 10}`).join(", ");
    const plan = parseFaultPlan(spec, FAULTS_UNLOCK_VALUE);
    expect([...plan.entries()]).toEqual(FAULT_SITES.map((site, i) => [site, i / 10]));
  });

  it("refuses unknown sites and probabilities outside 0..1 loudly", () => {
    expect(() => parseFaultPlan("sqs-dlete=0.1", FAULTS_UNLOCK_VALUE)).toThrow(/unknown fault site "sqs-dlete"/);
    expect(() => parseFaultPlan("sqs-delete=1.5", FAULTS_UNLOCK_VALUE)).toThrow(/between 0 and 1/);
    expect(() => parseFaultPlan("sqs-delete", FAULTS_UNLOCK_VALUE)).toThrow(/between 0 and 1/);
    expect(() => parseFaultPlan("sqs-delete=-0.1", FAULTS_UNLOCK_VALUE)).toThrow(/between 0 and 1/);
  });
});
