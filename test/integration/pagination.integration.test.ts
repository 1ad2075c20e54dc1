import { beforeAll, describe, expect, it } from "vitest";
import { makeZipBase64 } from "../fixtures/zips";
import type { TenantKey } from "../helpers/platform";
import { createActive, createFunctionBody, errorOf, fn, newTenant, signed, updateAndWait } from "../helpers/platform";

/**
 * Every Lambda list operation pages as AWS does (issue 12 item 6): `MaxItems`
 * items a page in the operation's order, `NextMarker` on every page but the
 * last (absent there, not null or empty), a marker that was not issued refused
 * with 400, MaxItems outside the model's range a ValidationException. Walked
 * one item a page so each boundary is crossed. (ListEventSourceMappings pages
 * the same way and is walked in integration/event-source-mappings.)
 */

type Page = Record<string, unknown> & { NextMarker?: string };

/** Follows NextMarker from the first page to the last, returning what each page held. */
async function walk(key: TenantKey, path: string, items: string, label: (item: Record<string, unknown>) => string): Promise<string[][]> {
  const pages: string[][] = [];
  let marker: string | undefined;
  for (let i = 0; i < 20; i++) {
    const sep = path.includes("?") ? "&" : "?";
    const res = await signed(key, "GET", `${path}${sep}MaxItems=1${marker === undefined ? "" : `&Marker=${encodeURIComponent(marker)}`}`);
    expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
    const page = await res.json<Page>();
    pages.push((page[items] as Record<string, unknown>[]).map(label));
    if (!("NextMarker" in page)) return pages;
    expect(page.NextMarker).toEqual(expect.any(String));
    marker = page.NextMarker;
  }
  throw new Error(`${path} did not end`);
}

describe("pagination of every list operation", () => {
  let key: TenantKey;
  const layers = "/2018-10-31/layers";

  beforeAll(async () => {
    key = await newTenant();
    const code = { "index.js": "exports.handler = async () => 1;" };
    await createActive(key, createFunctionBody("pa", code));
    await createActive(key, createFunctionBody("pb", code));
    for (const description of ["one", "two"]) {
      await updateAndWait(key, "PUT", `${fn("pa")}/configuration`, "pa", { Description: description });
      expect((await signed(key, "POST", `${fn("pa")}/versions`, {})).status).toBe(201);
    }
    for (const name of ["live", "stage"]) expect((await signed(key, "POST", `${fn("pa")}/aliases`, { Name: name, FunctionVersion: "1" })).status).toBe(201);
    for (const qualifier of ["1", "2"]) {
      expect((await signed(key, "PUT", `/2019-09-25/functions/pa/event-invoke-config?Qualifier=${qualifier}`, { MaximumRetryAttempts: 1 })).status).toBe(200);
    }
    for (const name of ["la", "lb"]) {
      for (let i = 0; i < 2; i++) {
        expect((await signed(key, "POST", `${layers}/${name}/versions`, { Content: { ZipFile: makeZipBase64({ "a.txt": name }) } })).status).toBe(201);
      }
    }
  });

  it("walks each list one item a page, in AWS's order, NextMarker absent on the last page", async () => {
    expect(await walk(key, "/2015-03-31/functions", "Functions", (f) => String(f.FunctionName))).toEqual([["pa"], ["pb"]]);
    expect(await walk(key, "/2015-03-31/functions?FunctionVersion=ALL", "Functions", (f) => String(f.FunctionArn).split(":").slice(6).join(":"))).toEqual([
      ["pa:$LATEST"],
      ["pa:1"],
      ["pa:2"],
      ["pb:$LATEST"],
    ]);
    expect(await walk(key, `${fn("pa")}/versions`, "Versions", (v) => String(v.Version))).toEqual([["$LATEST"], ["1"], ["2"]]);
    expect(await walk(key, `${fn("pa")}/aliases`, "Aliases", (a) => String(a.Name))).toEqual([["live"], ["stage"]]);
    expect(await walk(key, "/2019-09-25/functions/pa/event-invoke-config/list", "FunctionEventInvokeConfigs", (c) => String(c.FunctionArn).split(":").at(-1) ?? "")).toEqual([
      ["1"],
      ["2"],
    ]);
    expect(await walk(key, layers, "Layers", (l) => String(l.LayerName))).toEqual([["la"], ["lb"]]);
    expect(await walk(key, `${layers}/la/versions`, "LayerVersions", (v) => String(v.Version))).toEqual([["2"], ["1"]]);
  });

  it("answers a full page without NextMarker when everything fits", async () => {
    for (const path of ["/2015-03-31/functions", `${fn("pa")}/versions`, `${fn("pa")}/aliases`, "/2019-09-25/functions/pa/event-invoke-config/list", layers, `${layers}/la/versions`]) {
      const page = await signed(key, "GET", path).then((r) => r.json<Page>());
      expect(page, path).not.toHaveProperty("NextMarker");
    }
  });

  it("refuses markers it did not issue and MaxItems out of range", async () => {
    for (const path of ["/2015-03-31/functions", `${fn("pa")}/versions`, `${fn("pa")}/aliases`, "/2019-09-25/functions/pa/event-invoke-config/list", layers, `${layers}/la/versions`]) {
      const error = await errorOf(await signed(key, "GET", `${path}?Marker=not-a-marker`));
      expect({ path, status: error.status, type: error.type }).toEqual({ path, status: 400, type: "InvalidParameterValueException" });
      expect((await errorOf(await signed(key, "GET", `${path}?MaxItems=0`))).type).toBe("ValidationException");
    }
    // Layers and event invoke configs: at most 50 (the model); functions, versions and aliases: 10,000.
    expect((await errorOf(await signed(key, "GET", `${layers}?MaxItems=51`))).type).toBe("ValidationException");
    expect((await errorOf(await signed(key, "GET", "/2019-09-25/functions/pa/event-invoke-config/list?MaxItems=51"))).type).toBe("ValidationException");
    expect((await signed(key, "GET", "/2015-03-31/functions?MaxItems=10000")).status).toBe(200);
  });
});
