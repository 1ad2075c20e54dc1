import type { ConsoleSession } from "../session";
import type { OperatorOverview } from "../data";
import { Layout } from "./layout";

/** The operator's view: tenants and their last hour, cells with queue depths and sidelined tenants. */
export function OperatorPage(props: { session: ConsoleSession; overview: OperatorOverview }) {
  const { overview } = props;
  return (
    <Layout title="Platform" session={props.session}>
      <h1>Platform</h1>
      <section aria-labelledby="cells-h">
        <h2 id="cells-h">Cells</h2>
        <div class="cards">
          {overview.cells.map((cell) => (
            <div class="card cell" data-cell={String(cell.cell)}>
              <h3>Cell {cell.cell}</h3>
              <table>
                <thead><tr><th scope="col">Queue</th><th scope="col">Depth</th></tr></thead>
                <tbody>
                  {Object.entries(cell.depths).sort().map(([queue, depth]) => (
                    <tr><td><code>{queue}</code></td><td>{depth}</td></tr>
                  ))}
                </tbody>
              </table>
              <p>Sidelined: {cell.sidelined.length === 0 ? "none" : cell.sidelined.join(", ")}</p>
              <p>Low-priority move after: {cell.lowPriorityAfterSeconds === null ? "off" : `${cell.lowPriorityAfterSeconds} s`}</p>
            </div>
          ))}
        </div>
      </section>
      <section aria-labelledby="tenants-h">
        <h2 id="tenants-h">Tenants</h2>
        <div class="table-wrap">
          <table id="tenants">
            <thead>
              <tr>
                <th scope="col">Name</th><th scope="col">Id</th><th scope="col">Account</th><th scope="col">Cell</th>
                <th scope="col">Concurrency limit</th><th scope="col">Invocations (1 h)</th><th scope="col">Throttles (1 h)</th>
              </tr>
            </thead>
            <tbody>
              {overview.tenants.map((t) => (
                <tr data-tenant={t.id}>
                  <td>{t.name}</td><td><code>{t.id}</code></td><td>{t.accountId}</td><td>{t.cell}</td>
                  <td>{t.concurrencyLimit}</td><td class="invocations">{t.invocationsLastHour}</td><td class="throttles">{t.throttlesLastHour}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </Layout>
  );
}
