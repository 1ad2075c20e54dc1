/**
 * The web console at /console: server-rendered pages (Hono JSX), one small
 * script and uPlot as same-origin assets, a strict Content-Security-Policy.
 * Tenant pages read only through the signed-in key's tenant scope; the
 * operator page needs the admin token's session.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { Hono } from "hono";
import uplotScript from "uplot/dist/uPlot.iife.min.js";
import uplotStyles from "uplot/dist/uPlot.min.css";
import { NO_LINEAGE } from "../invoke/recursion";
import { handOver } from "../invoke/door";
import { invokeSync } from "../invoke/run";
import { prepareInvoke } from "../invoke/target";
import { takeInvokeRequest } from "../invoke/rate-quota";
import { LambdaError } from "../errors";
import clientScript from "./assets/console-client.js";
import consoleStyles from "./assets/console.css";
import type { ConsoleEnv } from "./console-env";
import { functionDetail, functionSummaries, logLines, operatorOverview } from "./data";
import type { InvokeResult } from "./pages/function";
import { FunctionPage } from "./pages/function";
import { FunctionsPage } from "./pages/functions";
import { LoginPage } from "./pages/login";
import { OperatorPage } from "./pages/operator";
import { executionTimeline, functionSources } from "./function-sources";
import { ExecutionPage } from "./pages/function-sources";
import type { ChartRange } from "./series";
import { chartRange } from "./series";
import { redriveFailedEvent } from "../services/failed-events";
import type { ConsoleSession } from "./session";
import { consoleSession, endSession, signIn, startSession } from "./session";
import { recordAuthFailure, refuseIfBlocked, sourceIp } from "../auth/authenticate";
import { failureSubjects } from "../auth/failure-limit";

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

const ASSETS: Record<string, { body: string; type: string }> = {
  "uplot.js": { body: uplotScript, type: "text/javascript; charset=utf-8" },
  "uplot.css": { body: uplotStyles, type: "text/css; charset=utf-8" },
  "console.js": { body: clientScript, type: "text/javascript; charset=utf-8" },
  "console.css": { body: consoleStyles, type: "text/css; charset=utf-8" },
};

/** The end of a test invoke's log shown under its result (the CLI's --log-type Tail shows 4 KB). */
const INVOKE_LOG_SHOWN_CHARS = 4096;

type TenantSession = Extract<ConsoleSession, { kind: "tenant" }>;

function tenantSession(c: Context<ConsoleEnv>): TenantSession | null {
  const session = c.get("session");
  return session?.kind === "tenant" ? session : null;
}

const notFoundPage = (c: Context<ConsoleEnv>) => c.text("Not found", 404);

export const consoleRoutes = new Hono<ConsoleEnv>({ strict: false })
  .use(async (c, next) => {
    await next();
    c.res.headers.set("content-security-policy", CONTENT_SECURITY_POLICY);
    c.res.headers.set("x-content-type-options", "nosniff");
    c.res.headers.set("referrer-policy", "no-referrer");
    c.res.headers.set("x-frame-options", "DENY");
    if (!c.res.headers.has("cache-control")) c.res.headers.set("cache-control", "no-store");
  })
  .get("/assets/:file", (c) => {
    const asset = Object.hasOwn(ASSETS, c.req.param("file")) ? ASSETS[c.req.param("file")] : undefined;
    if (!asset) return notFoundPage(c);
    return c.body(asset.body, 200, { "content-type": asset.type, "cache-control": "public, max-age=300" });
  })
  .use(consoleSession)
  .get("/", (c) => {
    const session = c.get("session");
    if (!session) return c.redirect("/console/login", 303);
    return c.redirect(session.kind === "operator" ? "/console/operator" : "/console/functions", 303);
  })
  .get("/login", (c) => c.html(<LoginPage />))
  .post("/login", async (c) => {
    const form = await c.req.parseBody();
    const field = (name: string) => (typeof form[name] === "string" ? (form[name] as string).trim() : "");
    // Sign-in failures count with the APIs' (src/auth/failure-limit.ts): the same secrets are guessed here.
    const subjects = failureSubjects(sourceIp(c.req.raw), field("adminToken") === "" ? field("accessKeyId").split(".")[0] ?? null : null);
    try {
      refuseIfBlocked(subjects);
    } catch {
      return c.html(<LoginPage error="Too many failed sign-ins: wait a minute and try again." />, 429);
    }
    const body = await signIn(c.env, { accessKeyId: field("accessKeyId"), secret: field("secret"), adminToken: field("adminToken") });
    if (!body) {
      recordAuthFailure(subjects);
      return c.html(<LoginPage error="Those credentials were not accepted." />, 401);
    }
    await startSession(c, body);
    return c.redirect(body.k === "operator" ? "/console/operator" : "/console/functions", 303);
  })
  .post("/logout", (c) => {
    endSession(c);
    return c.redirect("/console/login", 303);
  })
  .get("/functions", async (c) => {
    const session = tenantSession(c);
    if (!session) return c.redirect("/console/login", 303);
    return c.html(<FunctionsPage session={session} functions={await functionSummaries(session.scope)} />);
  })
  .get("/functions/:name", async (c) => {
    const session = tenantSession(c);
    if (!session) return c.redirect("/console/login", 303);
    const redriven = c.req.query("redriven");
    const notice = redriven && /^[0-9a-f-]{36}$/.test(redriven) ? `Redriven: the event was accepted again as request ${redriven}.` : undefined;
    return functionPage(c, session, c.req.param("name"), chartRange(c.req.query("range")), notice === undefined ? {} : { notice });
  })
  .post("/functions/:name/invoke", async (c) => {
    const session = tenantSession(c);
    if (!session) return c.redirect("/console/login", 303);
    const name = c.req.param("name");
    const form = await c.req.parseBody();
    const payload = typeof form.payload === "string" ? form.payload : "";
    const result = await testInvoke(c, session, name, payload);
    return functionPage(c, session, name, "1h", { result });
  })
  .post("/functions/:name/failed-events/:id/redrive", async (c) => {
    const session = tenantSession(c);
    if (!session) return c.redirect("/console/login", 303);
    const name = c.req.param("name");
    const requestId = crypto.randomUUID();
    try {
      await redriveFailedEvent(session.scope, name, c.req.param("id"), requestId);
    } catch (err) {
      if (!(err instanceof LambdaError)) throw err;
      if (err.status === 404) return notFoundPage(c);
      return functionPage(c, session, name, "1h", { notice: `Not redriven: ${err.message}` }, err.status);
    }
    return c.redirect(`/console/functions/${encodeURIComponent(name)}?redriven=${requestId}`, 303);
  })
  .get("/executions/:arn", async (c) => {
    const session = tenantSession(c);
    if (!session) return c.redirect("/console/login", 303);
    const timeline = await executionTimeline(session.scope, c.req.param("arn"));
    if (!timeline) return notFoundPage(c);
    return c.html(<ExecutionPage session={session} timeline={timeline} />);
  })
  .get("/functions/:name/logs", async (c) => {
    const session = tenantSession(c);
    if (!session) return c.json({ message: "Sign in first." }, 401);
    const latest = await session.scope.store.getVersion(c.req.param("name"), "$LATEST");
    if (!latest) return c.json({ message: "No such function." }, 404);
    const raw = c.req.query("after");
    const { lines, cursor } = await logLines(session.scope, latest.config.LoggingConfig.LogGroup, raw && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined);
    return c.json({ lines, after: String(cursor) });
  })
  .get("/operator", async (c) => {
    const session = c.get("session");
    if (session?.kind !== "operator") return c.redirect("/console/login", 303);
    return c.html(<OperatorPage session={session} overview={await operatorOverview(c.env)} />);
  });

/** The function page (404 when the tenant has no such function), with a test invoke's result or a notice. */
async function functionPage(
  c: Context<ConsoleEnv>,
  session: TenantSession,
  name: string,
  range: ChartRange,
  extra: { result?: InvokeResult; notice?: string },
  status: ContentfulStatusCode = 200,
): Promise<Response> {
  const latest = await session.scope.store.getVersion(name, "$LATEST");
  if (!latest) return notFoundPage(c);
  const sources = await functionSources(session.scope, name, latest.config.DeadLetterConfig?.TargetArn);
  const detail = await functionDetail(session.scope, name, range, { iteratorAge: sources.mappings.some((m) => m.stream) });
  if (!detail) return notFoundPage(c);
  return c.html(<FunctionPage session={session} detail={detail} sources={sources} range={range} {...extra} />, status);
}

/** The console's test invoke: the same synchronous path as the Invoke API, with the log tail shown. */
async function testInvoke(c: Context<ConsoleEnv>, session: TenantSession, name: string, payload: string): Promise<InvokeResult> {
  try {
    JSON.parse(payload === "" ? "{}" : payload);
  } catch (err) {
    return { payload: `The event is not JSON: ${(err as Error).message}`, functionError: "InvalidRequestContent", log: "" };
  }
  try {
    const target = await prepareInvoke(session.scope, { name }, undefined);
    const requestId = crypto.randomUUID();
    takeInvokeRequest(session.scope, target, requestId, (p) => c.executionCtx.waitUntil(p));
    const admission = handOver(c.req.raw, `${session.scope.principal.tenantId}\u0000${name}`);
    const outcome = await invokeSync(session.scope, target, {
      requestId,
      payload: payload === "" ? "{}" : payload,
      tenantId: undefined,
      clientContext: undefined,
      lineage: NO_LINEAGE,
      waitUntil: (p) => c.executionCtx.waitUntil(p),
      signal: c.req.raw.signal,
      ...(admission ? { admission } : {}),
    });
    return { payload: outcome.payload, ...(outcome.functionError ? { functionError: outcome.functionError } : {}), log: outcome.log.slice(-INVOKE_LOG_SHOWN_CHARS) };
  } catch (err) {
    if (err instanceof LambdaError) return { payload: `${err.type}: ${err.message}`, functionError: err.type, log: "" };
    throw err;
  }
}
