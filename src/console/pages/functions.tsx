import type { ConsoleSession } from "../session";
import type { FunctionSummary } from "../data";
import { Layout, Sparkline } from "./layout";

/** The tenant's functions with state, runtime, last change, and the last hour's invocations and errors. */
export function FunctionsPage(props: { session: ConsoleSession; functions: FunctionSummary[] }) {
  return (
    <Layout title="Functions" session={props.session}>
      <h1>Functions</h1>
      {props.functions.length === 0 ? (
        <p>No functions yet. Create one with <code>aws lambda create-function</code>.</p>
      ) : (
        <div class="table-wrap">
          <table id="functions">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Runtime</th>
                <th scope="col">Last modified</th>
                <th scope="col">Invocations (1 h)</th>
                <th scope="col">Errors (1 h)</th>
              </tr>
            </thead>
            <tbody>
              {props.functions.map(({ row, invocations, errors }) => (
                <tr data-function={row.functionName}>
                  <td>
                    <a href={`/console/functions/${encodeURIComponent(row.functionName)}`}>{row.functionName}</a>
                  </td>
                  <td>{row.state}</td>
                  <td>{row.config.Runtime}</td>
                  <td>{row.lastModified}</td>
                  <td class="invocations"><Sparkline values={invocations.v} label="Invocations" /></td>
                  <td class="errors"><Sparkline values={errors.v} label="Errors" /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}
