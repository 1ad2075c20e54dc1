import type { Child } from "hono/jsx";
import type { ConsoleSession } from "../session";

/** The page frame: header with navigation and sign-out, the page, the console's script. */
export function Layout(props: { title: string; session: ConsoleSession | null; children?: Child }) {
  const { session } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · cellfn console`}</title>
        <link rel="stylesheet" href="/console/assets/uplot.css" />
        <link rel="stylesheet" href="/console/assets/console.css" />
        <script src="/console/assets/uplot.js" defer></script>
        <script src="/console/assets/console.js" defer></script>
      </head>
      <body>
        <header>
          <a class="brand" href="/console">cellfn</a>
          <nav aria-label="Main">
            {session?.kind === "tenant" && <a href="/console/functions">Functions</a>}
            {session?.kind === "operator" && <a href="/console/operator">Platform</a>}
          </nav>
          {session && (
            <form method="post" action="/console/logout" class="signout">
              <input type="hidden" name="csrf" value={session.csrf} />
              <span class="who">{session.kind === "tenant" ? session.accessKeyId : "operator"}</span>
              <button type="submit">Sign out</button>
            </form>
          )}
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}

/** A server-drawn sparkline (no script needed): a polyline over the series' values. */
export function Sparkline(props: { values: Array<number | null>; label: string }) {
  const width = 120;
  const height = 24;
  const values = props.values.map((v) => v ?? 0);
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - (v / max) * (height - 2) - 1).toFixed(1)}`).join(" ");
  const total = values.reduce((a, b) => a + b, 0);
  return (
    <span class="spark" data-total={String(total)}>
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${props.label}: ${total} in the last hour`}>
        <polyline points={points} fill="none" stroke="currentColor" stroke-width="1.5" />
      </svg>
      <span class="spark-total">{total}</span>
    </span>
  );
}

export function formatTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace("T", " ").slice(0, 19);
}
