import { describe, expect, it } from "vitest";
import { renderExposition } from "../../src/metrics/openmetrics";

describe("renderExposition (Prometheus text format 0.0.4)", () => {
  it("writes HELP, TYPE and one line per sample, labels in order", () => {
    const text = renderExposition([
      { name: "cellfn_cells", help: "Cells.", type: "gauge", samples: [{ value: 4 }] },
      { name: "cellfn_refused_total", help: "Refusals.", type: "counter", samples: [{ labels: { rule: "bound" }, value: 3 }, { labels: { rule: "rate", cell: 2 }, value: 0 }] },
    ]);
    expect(text).toBe(
      [
        "# HELP cellfn_cells Cells.",
        "# TYPE cellfn_cells gauge",
        "cellfn_cells 4",
        "# HELP cellfn_refused_total Refusals.",
        "# TYPE cellfn_refused_total counter",
        'cellfn_refused_total{rule="bound"} 3',
        'cellfn_refused_total{rule="rate",cell="2"} 0',
        "",
      ].join("\n"),
    );
  });

  it("escapes label values and help text as the format requires", () => {
    const text = renderExposition([{ name: "m", help: "a \\ b\nc", type: "gauge", samples: [{ labels: { tenant: 'x"y\\z\nw' }, value: 1 }] }]);
    expect(text).toContain("# HELP m a \\\\ b\\nc\n");
    expect(text).toContain('m{tenant="x\\"y\\\\z\\nw"} 1\n');
  });

  it("writes NaN and infinities as the format spells them; a family without samples keeps its HELP and TYPE", () => {
    const text = renderExposition([
      { name: "a", help: "h", type: "gauge", samples: [{ value: Number.NaN }, { labels: { s: "p" }, value: Number.POSITIVE_INFINITY }, { labels: { s: "n" }, value: Number.NEGATIVE_INFINITY }] },
      { name: "b", help: "h", type: "gauge", samples: [] },
    ]);
    expect(text.split("\n")).toEqual(["# HELP a h", "# TYPE a gauge", "a NaN", 'a{s="p"} +Inf', 'a{s="n"} -Inf', "# HELP b h", "# TYPE b gauge", ""]);
  });

  it("refuses metric and label names the format does not allow", () => {
    expect(() => renderExposition([{ name: "1bad", help: "h", type: "gauge", samples: [] }])).toThrow(/metric name/);
    expect(() => renderExposition([{ name: "ok", help: "h", type: "gauge", samples: [{ labels: { "bad-label": "v" }, value: 1 }] }])).toThrow(/label name/);
  });
});
