import { Hono } from "hono";
import type { ErrorHandler, NotFoundHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./app-env";
import { authenticateTenant } from "./auth/authenticate";
import { awsJsonRoutes } from "./aws-json/routes";
import { DOWNLOAD_MOUNT } from "./code/download-url";
import { consoleRoutes } from "./console/routes";
import { CBOR_SERVICE_PATH, cloudWatchCborRoutes } from "./metrics/cbor-routes";
import { eventSourceMappingRoutes } from "./event-sources/routes";
import { LambdaError, serviceException, unknownOperation } from "./errors";
import { adminRoutes } from "./routes/admin";
import { apiRequestRate } from "./routes/api-rate";
import { aliasRoutes } from "./routes/aliases";
import { codeDownloadRoutes } from "./routes/code-download";
import { concurrencyRoutes } from "./routes/concurrency";
import { eventInvokeConfigRoutes } from "./routes/event-invoke-config";
import { failedEventRoutes } from "./routes/failed-events";
import { functionUrlRoutes } from "./function-urls/routes";
import { functionUrlFrontDoor } from "./function-urls/serve";
import { functionRoutes } from "./routes/functions";
import { layerRoutes } from "./routes/layers";
import { invokeRoutes } from "./invoke/routes";
import { policyRoutes } from "./routes/policies";
import { recursionConfigRoutes } from "./routes/recursion-config";
import { runtimeManagementRoutes } from "./routes/runtime-management";
import { tagRoutes } from "./routes/tags";

import { streamInvokeRoutes } from "./invoke/stream-routes";
import { durableRoutes } from "./durable/routes";

/** Builds the frontend: one Hono app, one sub-app per API area, one error mapping. */
export function buildApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>({ strict: false });

  // Function URLs are told apart by Host (<url-id>.lambda-url.<region>.<domain>), before any API route.
  app.use(functionUrlFrontDoor);

  app.use(stampRequestId);

  app.get("/healthz", (c) => c.json({ ok: true }));
  app.route("/admin", adminRoutes);
  // The web console: its own sign-in (session cookie), pages and assets.
  app.route("/console", consoleRoutes);

  // The Lambda API: every path starts with an API date and authenticates a tenant first.
  const lambda = new Hono<AppEnv>({ strict: false });
  lambda.use("/:apiDate{[0-9]{4}-[0-9]{2}-[0-9]{2}}/*", authenticateTenant, apiRequestRate);
  lambda.route("/2015-03-31/functions", invokeRoutes);
  lambda.route("/2021-11-15/functions", streamInvokeRoutes);
  lambda.route("/2015-03-31/functions", aliasRoutes);
  lambda.route("/2015-03-31/functions", policyRoutes);
  lambda.route("/2015-03-31/functions", functionRoutes);
  lambda.route("/2019-09-25/functions", eventInvokeConfigRoutes);
  lambda.route("/2017-03-31/tags", tagRoutes);
  lambda.route("/2021-07-20/functions", runtimeManagementRoutes);
  lambda.route("/2024-08-31/functions", recursionConfigRoutes);
  lambda.route("/2021-10-31/functions", functionUrlRoutes);
  lambda.route("/2018-10-31/layers", layerRoutes);
  lambda.route("/2025-12-01", durableRoutes);

  lambda.route("/2015-03-31/event-source-mappings", eventSourceMappingRoutes);
  lambda.route("/", concurrencyRoutes);
  app.route("/", lambda);
  // SQS, Kinesis and CloudWatch Logs: `POST /` routed by X-Amz-Target.
  app.route("/", awsJsonRoutes);
  // CloudWatch for SDK v3, which speaks smithy-rpc-v2-cbor (botocore's JSON goes through the route above).
  app.route(CBOR_SERVICE_PATH, cloudWatchCborRoutes);
  // cellfn's own extensions (failed events, redrive); tenant auth inside.
  app.route("/cellfn/v1", failedEventRoutes);
  // GetFunction's Code.Location: presigned, no credentials.
  app.route(DOWNLOAD_MOUNT, codeDownloadRoutes);

  app.notFound(unknownRoute);
  app.onError(answerError);

  return app;
}

/**
 * The sync Invoke route alone (`POST /2015-03-31/functions/{name}/invocations`
 * on the API host), with the same middleware and answers as in buildApp:
 * src/index.ts sends it the requests the door recognised as Invoke, so that
 * the hottest path is not matched against every route of the API (Hono's
 * trie router walks them per request).
 */
export function buildInvokeApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>({ strict: false });
  app.use(stampRequestId);
  app.use("/2015-03-31/*", authenticateTenant);
  app.route("/2015-03-31/functions", invokeRoutes);
  app.notFound(unknownRoute);
  app.onError(answerError);
  return app;
}

const stampRequestId = createMiddleware<AppEnv>(async (c, next) => {
  const requestId = crypto.randomUUID();
  c.set("requestId", requestId);
  await next();
  c.res.headers.set("x-amzn-RequestId", requestId);
});

const unknownRoute: NotFoundHandler<AppEnv> = (c) => unknownOperation(c.req.method, new URL(c.req.url).pathname).toResponse(c.get("requestId"));

const answerError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof LambdaError) return err.toResponse(c.get("requestId"));
  console.error("unhandled error", c.req.method, c.req.path, err);
  return serviceException("An internal error occurred. Retry the request.").toResponse(c.get("requestId"));
};
