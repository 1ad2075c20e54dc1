import { describe, expect, it } from "vitest";
import { pickAliasVersion } from "../../src/lambda/alias-routing";

describe("pickAliasVersion", () => {
  it("always picks the primary version without weights", () => {
    expect(pickAliasVersion("1", null, 0)).toBe("1");
    expect(pickAliasVersion("1", {}, 0.99)).toBe("1");
  });

  it("sends the weighted share to the additional version", () => {
    expect(pickAliasVersion("1", { "2": 0.25 }, 0.1)).toBe("2");
    expect(pickAliasVersion("1", { "2": 0.25 }, 0.25)).toBe("1");
    expect(pickAliasVersion("1", { "2": 0.25 }, 0.9)).toBe("1");
  });

  it("matches the weights over many draws", () => {
    let extra = 0;
    const draws = 10_000;
    for (let i = 0; i < draws; i++) if (pickAliasVersion("1", { "2": 0.3 }, (i + 0.5) / draws) === "2") extra++;
    expect(extra).toBe(3000);
  });
});
