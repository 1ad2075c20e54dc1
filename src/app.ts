import { Hono } from "hono";
import type { AppEnv } from "./app-env";
import { LambdaError } from "./errors";

/** Builds the frontend: one Hono app, one sub-app per API area, one error mapping. */
export function buildApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    const requestId = crypto.randomUUID();
    c.set("requestId", requestId);
    await next();
    c.res.headers.set("x-amzn-RequestId", requestId);
  });

  app.get("/healthz", (c) => c.json({ ok: true }));

  app.notFound((c) =>
    new LambdaError(404, "UnknownOperationException", `No route for ${c.req.method} ${new URL(c.req.url).pathname}`).toResponse(
      c.get("requestId"),
    ),
  );

  app.onError((err, c) => {
    if (err instanceof LambdaError) return err.toResponse(c.get("requestId"));
    console.error("unhandled error", c.req.method, c.req.path, err);
    return new LambdaError(500, "ServiceException", "An internal error occurred. Retry the request.").toResponse(
      c.get("requestId"),
    );
  });

  return app;
}
