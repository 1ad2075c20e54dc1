import type { ConsoleSession } from "../session";
import type { FunctionDetail } from "../data";
import type { FunctionSources } from "../function-sources";
import type { ChartRange } from "../series";
import { CHART_RANGES } from "../series";
import { SourcesSections } from "./function-sources";
import { formatTime, Layout } from "./layout";

export interface InvokeResult {
  payload: string;
  functionError?: string;
  log: string;
}

/**
 * One function: configuration, versions and aliases, metric charts, a test invoke, recent invocations, async settings
 * with failed events, event source mappings, durable executions, and the live log tail.
 */
export function FunctionPage(props: { session: ConsoleSession; detail: FunctionDetail; sources: FunctionSources; range: ChartRange; result?: InvokeResult; notice?: string }) {
  const { detail, session } = props;
  const { fn, latest } = detail;
  const config = latest.config;
  const base = `/console/functions/${encodeURIComponent(fn.name)}`;
  return (
    <Layout title={fn.name} session={session}>
      <p class="crumbs"><a href="/console/functions">Functions</a> / {fn.name}</p>
      <h1>{fn.name}</h1>

      <section aria-labelledby="config-h" class="card">
        <h2 id="config-h">Configuration</h2>
        <dl class="config">
          <dt>State</dt><dd>{latest.state}</dd>
          <dt>Runtime</dt><dd>{config.Runtime}</dd>
          <dt>Handler</dt><dd>{config.Handler}</dd>
          <dt>Memory</dt><dd>{config.MemorySize} MB</dd>
          <dt>Timeout</dt><dd>{config.Timeout} s</dd>
          <dt>Reserved concurrency</dt><dd>{fn.reservedConcurrency ?? "unreserved"}</dd>
          <dt>Log group</dt><dd><code>{config.LoggingConfig.LogGroup}</code></dd>
          <dt>Last modified</dt><dd>{latest.lastModified}</dd>
        </dl>
        <h3>Versions and aliases</h3>
        <ul class="plain">
          {detail.versions.map((v) => <li>Version {v.version} · {v.lastModified}</li>)}
          {detail.aliases.map((a) => (
            <li>
              Alias <strong>{a.name}</strong> → {a.functionVersion}
              {Object.entries(a.additionalVersionWeights ?? {}).map(([version, weight]) => ` + ${version} (${Math.round(Number(weight) * 100)} %)`)}
            </li>
          ))}
          {detail.versions.length + detail.aliases.length === 0 && <li>Only $LATEST.</li>}
        </ul>
      </section>

      <section aria-labelledby="metrics-h">
        <h2 id="metrics-h">Metrics</h2>
        <nav class="ranges" aria-label="Time range">
          {Object.keys(CHART_RANGES).map((r) => (
            <a href={`${base}?range=${r}`} aria-current={r === props.range ? "page" : undefined}>{r}</a>
          ))}
        </nav>
        <div class="charts">
          {detail.charts.map((chart) => (
            <figure class="chart" data-chart={JSON.stringify(chart)} data-total={String(chart.series[0]?.data.v.reduce<number>((n, v) => n + (v ?? 0), 0) ?? 0)}>
              <figcaption>{chart.title} <span class="unit">({chart.unit})</span></figcaption>
            </figure>
          ))}
        </div>
      </section>

      <section aria-labelledby="test-h" class="card">
        <h2 id="test-h">Test invoke</h2>
        <form method="post" action={`${base}/invoke`} class="invoke">
          <input type="hidden" name="csrf" value={session.csrf} />
          <label>
            Event (JSON)
            <textarea name="payload" rows={4} spellcheck={false}>{"{}"}</textarea>
          </label>
          <button type="submit">Invoke</button>
        </form>
        {props.result && (
          <div id="invoke-result" class={props.result.functionError ? "result failed" : "result"}>
            <h3>{props.result.functionError ? `Function error (${props.result.functionError})` : "Result"}</h3>
            <pre class="payload">{props.result.payload}</pre>
            <h3>Log</h3>
            <pre class="log">{props.result.log}</pre>
          </div>
        )}
      </section>

      <section aria-labelledby="recent-h">
        <h2 id="recent-h">Recent invocations</h2>
        <div class="table-wrap">
          <table id="recent">
            <thead>
              <tr><th scope="col">Time</th><th scope="col">Request id</th><th scope="col">Duration</th><th scope="col">Init</th><th scope="col">Outcome</th></tr>
            </thead>
            <tbody>
              {detail.recent.map((r) => (
                <tr class={`outcome-${r.outcome}`}>
                  <td>{formatTime(r.timestamp)}</td>
                  <td><code>{r.requestId}</code></td>
                  <td>{r.durationMs.toFixed(2)} ms</td>
                  <td>{r.initDurationMs === undefined ? "" : `${r.initDurationMs.toFixed(2)} ms`}</td>
                  <td>{r.outcome}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {detail.recent.length === 0 && <p>No invocations in the last hour.</p>}
      </section>

      <SourcesSections session={session} base={base} sources={props.sources} {...(props.notice === undefined ? {} : { notice: props.notice })} />

      <section aria-labelledby="logs-h">
        <h2 id="logs-h">Logs <span class="live" aria-live="polite">live</span></h2>
        <pre id="log-tail" class="log" tabindex={0} data-tail-url={`${base}/logs`}></pre>
      </section>
    </Layout>
  );
}
