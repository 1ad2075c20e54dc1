import type { ExecutionTimeline, FunctionSources } from "../function-sources";
import type { ConsoleSession } from "../session";
import { formatTime, Layout } from "./layout";

/** The function page's async settings with failed events (and their redrive), mappings, and durable executions. */
export function SourcesSections(props: { session: ConsoleSession; base: string; sources: FunctionSources; notice?: string }) {
  const { sources, session, base } = props;
  const a = sources.asyncConfig;
  return (
    <>
      <section aria-labelledby="async-h" class="card">
        <h2 id="async-h">Asynchronous invocation</h2>
        {props.notice && <p id="notice" role="status" class="notice">{props.notice}</p>}
        <dl class="config">
          <dt>Retry attempts</dt><dd>{a.maximumRetryAttempts}</dd>
          <dt>Maximum event age</dt><dd>{a.maximumEventAgeInSeconds} s</dd>
          <dt>On success</dt><dd>{a.onSuccess ? <code>{a.onSuccess}</code> : "none"}</dd>
          <dt>On failure</dt><dd>{a.onFailure ? <code>{a.onFailure}</code> : "none"}</dd>
          <dt>Dead-letter queue</dt><dd>{sources.deadLetterTarget ? <code>{sources.deadLetterTarget}</code> : "none"}</dd>
        </dl>
        <h3>Failed events</h3>
        {sources.failedEvents.length === 0 ? (
          <p>No failed events.</p>
        ) : (
          <div class="table-wrap">
            <table id="failed-events">
              <thead>
                <tr><th scope="col">Failed at</th><th scope="col">Request id</th><th scope="col">Condition</th><th scope="col">Redrive</th></tr>
              </thead>
              <tbody>
                {sources.failedEvents.map((e) => (
                  <tr data-id={e.id}>
                    <td>{formatTime(e.createdAt)}</td>
                    <td><code>{e.requestId}</code></td>
                    <td>{e.condition}</td>
                    <td>
                      {e.redrivenAt === null ? (
                        <form method="post" action={`${base}/failed-events/${encodeURIComponent(e.id)}/redrive`}>
                          <input type="hidden" name="csrf" value={session.csrf} />
                          <button type="submit" aria-label={`Redrive event ${e.requestId}`}>Redrive</button>
                        </form>
                      ) : (
                        `redriven ${formatTime(e.redrivenAt)}`
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section aria-labelledby="mappings-h">
        <h2 id="mappings-h">Event source mappings</h2>
        {sources.mappings.length === 0 ? (
          <p>No event source mappings.</p>
        ) : (
          <div class="table-wrap">
            <table id="mappings">
              <thead>
                <tr><th scope="col">Source</th><th scope="col">State</th><th scope="col">Batch size</th><th scope="col">Last result</th><th scope="col">UUID</th></tr>
              </thead>
              <tbody>
                {sources.mappings.map((m) => (
                  <tr>
                    <td><code>{m.source}</code></td>
                    <td>{m.state}</td>
                    <td>{m.batchSize}</td>
                    <td>{m.lastProcessingResult}</td>
                    <td><code>{m.uuid}</code></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {sources.mappings.some((m) => m.stream) && <p>Stream sources: the iterator age is charted under Metrics (IteratorAge).</p>}
      </section>

      {sources.executions.length > 0 && (
        <section aria-labelledby="durable-h">
          <h2 id="durable-h">Durable executions</h2>
          <div class="table-wrap">
            <table id="executions">
              <thead>
                <tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Started</th><th scope="col">Ended</th></tr>
              </thead>
              <tbody>
                {sources.executions.map((x) => (
                  <tr>
                    <td><a href={`/console/executions/${encodeURIComponent(x.executionArn)}`}>{x.executionName}</a></td>
                    <td>{x.status}</td>
                    <td>{formatTime(x.startedAt)}</td>
                    <td>{x.endedAt === null ? "" : formatTime(x.endedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </>
  );
}

/** One durable execution: its status and its history as a timeline of steps, waits, callbacks and invokes. */
export function ExecutionPage(props: { session: ConsoleSession; timeline: ExecutionTimeline }) {
  const t = props.timeline;
  const fnBase = `/console/functions/${encodeURIComponent(t.functionName)}`;
  return (
    <Layout title={t.executionName} session={props.session}>
      <p class="crumbs"><a href="/console/functions">Functions</a> / <a href={fnBase}>{t.functionName}</a> / {t.executionName}</p>
      <h1>{t.executionName}</h1>
      <dl class="config card">
        <dt>Status</dt><dd id="execution-status">{t.status}</dd>
        <dt>Started</dt><dd>{formatTime(t.startMs)}</dd>
        <dt>Ended</dt><dd>{t.endMs === undefined ? "" : formatTime(t.endMs)}</dd>
        <dt>ARN</dt><dd><code>{t.arn}</code></dd>
      </dl>
      <section aria-labelledby="timeline-h">
        <h2 id="timeline-h">Timeline</h2>
        <div class="table-wrap">
          <table id="timeline">
            <thead>
              <tr><th scope="col">#</th><th scope="col">At (+ms)</th><th scope="col">Event</th><th scope="col">Kind</th><th scope="col">Name</th><th scope="col">Operation</th></tr>
            </thead>
            <tbody>
              {t.events.map((e) => (
                <tr>
                  <td>{e.id}</td>
                  <td>{Math.max(0, Math.round(e.atMs - t.startMs))}</td>
                  <td>{e.type}</td>
                  <td>{e.subType ?? ""}</td>
                  <td>{e.name ?? ""}</td>
                  <td><code>{e.operationId ?? ""}</code></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </Layout>
  );
}
