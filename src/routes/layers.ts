import type { Context } from "hono";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { requireFullScope } from "../auth/authenticate";
import { addLayerVersionPermissionSchema, layerListQuerySchema, publishLayerVersionSchema } from "../lambda/layer-schemas";
import { type LayerRef, type LayerVersionRef, parseLayerName, parseLayerVersionArn, parseVersionNumber } from "../lambda/layers";
import { parseJsonBody, parseValue } from "../lambda/validation";
import { codeRequestBody } from "./context";
import {
  addLayerVersionPermission,
  deleteLayerVersion,
  getLayerVersion,
  getLayerVersionPolicy,
  type ListQuery,
  listLayers,
  listLayerVersions,
  publishLayerVersion,
  removeLayerVersionPermission,
} from "../services/layers";

/** Lambda layers: `/2018-10-31/layers...` (src/services/layers.ts). */
export const layerRoutes = new Hono<AppEnv>({ strict: false })
  .get("/", async (c) => {
    // GetLayerVersionByArn shares the path: `?find=LayerVersion&Arn=...`.
    if (c.req.query("find") === "LayerVersion") {
      const ref = parseLayerVersionArn(c.req.query("Arn") ?? "");
      return c.json(await getLayerVersion(c.var.scope, ref, originOf(c)));
    }
    return c.json(await listLayers(c.var.scope, listQueryOf(c)));
  })
  .get("/:LayerName/versions", async (c) => c.json(await listLayerVersions(c.var.scope, layerOf(c), listQueryOf(c))))
  .post("/:LayerName/versions", requireFullScope, async (c) => {
    const ref = layerOf(c);
    const input = parseJsonBody(publishLayerVersionSchema, await codeRequestBody(c, "PublishLayerVersion"));
    return c.json(await publishLayerVersion(c.var.scope, ref, input, originOf(c)), 201);
  })
  .get("/:LayerName/versions/:VersionNumber", async (c) => c.json(await getLayerVersion(c.var.scope, versionOf(c), originOf(c))))
  .delete("/:LayerName/versions/:VersionNumber", requireFullScope, async (c) => {
    await deleteLayerVersion(c.var.scope, versionOf(c));
    return c.body(null, 204);
  })
  .post("/:LayerName/versions/:VersionNumber/policy", requireFullScope, async (c) => {
    const ref = versionOf(c);
    const input = parseJsonBody(addLayerVersionPermissionSchema, await c.req.text());
    return c.json(await addLayerVersionPermission(c.var.scope, ref, input, c.req.query("RevisionId")), 201);
  })
  .get("/:LayerName/versions/:VersionNumber/policy", async (c) => c.json(await getLayerVersionPolicy(c.var.scope, versionOf(c))))
  .delete("/:LayerName/versions/:VersionNumber/policy/:StatementId", requireFullScope, async (c) => {
    await removeLayerVersionPermission(c.var.scope, versionOf(c), c.req.param("StatementId"), c.req.query("RevisionId"));
    return c.body(null, 204);
  });

function layerOf(c: Context<AppEnv>): LayerRef {
  return parseLayerName(c.req.param("LayerName") ?? "", { accountId: c.get("principal").accountId, region: c.env.REGION });
}

function versionOf(c: Context<AppEnv>): LayerVersionRef {
  const layer = layerOf(c);
  return { ...layer, version: parseVersionNumber(c.req.param("VersionNumber") ?? "") };
}

function listQueryOf(c: Context<AppEnv>): ListQuery {
  const q = parseValue(layerListQuerySchema, { Marker: c.req.query("Marker"), MaxItems: c.req.query("MaxItems") });
  return { marker: q.Marker, maxItems: q.MaxItems, runtime: c.req.query("CompatibleRuntime"), architecture: c.req.query("CompatibleArchitecture") };
}

function originOf(c: Context<AppEnv>): string {
  return new URL(c.req.url).origin;
}
