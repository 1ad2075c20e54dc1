// The console's only script (served as /console/assets/console.js under a
// strict Content-Security-Policy: no inline code). Draws each figure.chart
// with uPlot from its data-chart JSON, and keeps #log-tail live by polling
// its data-tail-url for lines ingested after the last poll (the cursor StartLiveTail uses).
"use strict";

const COLOURS = ["#2563eb", "#dc2626", "#059669", "#d97706"];
const TAIL_POLL_MS = 1000;

function drawCharts() {
  for (const figure of document.querySelectorAll("figure.chart")) {
    const chart = JSON.parse(figure.dataset.chart);
    const first = chart.series[0];
    if (!first || typeof uPlot !== "function") continue;
    const data = [first.data.t, ...chart.series.map((s) => s.data.v)];
    const width = () => Math.max(240, figure.clientWidth - 8);
    const plot = new uPlot(
      {
        width: width(),
        height: 180,
        series: [{}, ...chart.series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2, spanGaps: false, points: { show: true, size: 5 } }))],
        axes: [{}, { size: 56 }],
      },
      data,
      figure,
    );
    figure.dataset.drawn = "true";
    new ResizeObserver(() => plot.setSize({ width: width(), height: 180 })).observe(figure);
  }
}

function startTail() {
  const pre = document.getElementById("log-tail");
  if (!pre) return;
  let after = "";
  let busy = false;
  const poll = async () => {
    if (busy) return;
    busy = true;
    try {
      const res = await fetch(`${pre.dataset.tailUrl}${after ? `?after=${encodeURIComponent(after)}` : ""}`, { credentials: "same-origin" });
      if (!res.ok) return;
      const body = await res.json();
      const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      for (const line of body.lines) {
        const row = document.createElement("span");
        row.className = "line";
        row.textContent = `${new Date(line.timestamp).toISOString()}  ${line.message}\n`;
        pre.appendChild(row);
      }
      if (body.after) after = body.after;
      if (atBottom) pre.scrollTop = pre.scrollHeight;
    } finally {
      busy = false;
    }
  };
  void poll();
  setInterval(poll, TAIL_POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  drawCharts();
  startTail();
});
