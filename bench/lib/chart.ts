/**
 * Line charts for the benchmarks, as PNG: uPlot (the console's chart library)
 * drawn in headless Chromium (playwright-core with @sparticuz/chromium, both
 * from the npm registry) and screenshotted. No chart is drawn in Node itself:
 * no canvas package is needed.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import chromium from "@sparticuz/chromium";
import { chromium as playwright } from "playwright-core";
import { ROOT } from "../../test/e2e/harness";

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
  dash?: number[];
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  x: number[];
  series: Series[];
}

/** Writes `spec` as a PNG at `file` (and the page beside it as .html). */
export async function writeChart(spec: ChartSpec, file: string): Promise<void> {
  const uplot = path.join(ROOT, "node_modules", "uplot", "dist");
  const html = `<!doctype html><html><head><meta charset="utf-8"><style>${readFileSync(path.join(uplot, "uPlot.min.css"), "utf8")}
body{font-family:sans-serif;margin:12px;background:#fff}</style></head><body><div id="chart"></div>
<script>${readFileSync(path.join(uplot, "uPlot.iife.min.js"), "utf8")}</script>
<script>
const spec = ${JSON.stringify(spec)};
new uPlot({
  title: spec.title, width: 900, height: 480,
  scales: { x: { time: false } },
  axes: [{ label: spec.xLabel }, { label: spec.yLabel }],
  series: [{ label: spec.xLabel }, ...spec.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, dash: s.dash, points: { show: true } }))],
}, [spec.x, ...spec.series.map((s) => s.values)], document.getElementById("chart"));
</script></body></html>`;
  writeFileSync(file.replace(/\.png$/, ".html"), html);
  const browser = await playwright.launch({ executablePath: await chromium.executablePath(), args: chromium.args, headless: true });
  try {
    // An explicit locale: Chromium derives an invalid one ("en-US@posix") from some LANG settings.
    const page = await browser.newPage({ viewport: { width: 930, height: 560 }, locale: "en-US" });
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(String(err)));
    await page.setContent(html);
    await page.waitForSelector(".u-over", { state: "attached", timeout: 10_000 }).catch(() => {
      throw new Error(`the chart did not draw: ${errors.join("; ") || "no error reported"}`);
    });
    await page.screenshot({ path: file });
  } finally {
    await browser.close();
  }
}
