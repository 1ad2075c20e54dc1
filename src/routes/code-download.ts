import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { refuseDownload } from "../code/download-url";
import { CodeStore } from "../data/code-store";
import { database } from "../db/client";
import { accessDenied, notFound } from "../errors";

/**
 * `GET /cellfn/code/{hex sha256}.zip?Expires=&Signature=`: the .zip package a
 * GetFunction `Code.Location` names. Presigned (src/code/download-url.ts), so
 * it takes no credentials, like Lambda's S3 URL.
 */
export const codeDownloadRoutes = new Hono<AppEnv>({ strict: false }).get("/:file{[0-9a-fA-F]+\\.zip}", async (c) => {
  const packageHex = c.req.param("file").slice(0, -".zip".length).toLowerCase();
  const refused = await refuseDownload(c.env.KEY_DERIVATION_SECRET, packageHex, c.req.query("Expires"), c.req.query("Signature"));
  if (refused) throw accessDenied(refused);
  const object = await new CodeStore(c.env.CODE, database(c.env.DB)).openZip(packageHex);
  if (!object) throw notFound("The function's code package no longer exists (the function was deleted or its code replaced).");
  return new Response(object.body, {
    headers: { "content-type": "application/zip", "content-length": String(object.size), etag: object.httpEtag },
  });
});
