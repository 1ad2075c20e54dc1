import { describe, expect, it } from "vitest";
import { findHandlerModule, nearestPackageType, parseHandler } from "../../src/code/handler-path";

const files = (entries: Record<string, string>): Map<string, Uint8Array> =>
  new Map(Object.entries(entries).map(([path, text]) => [path, new TextEncoder().encode(text)]));

describe("parseHandler", () => {
  it("splits a root handler into module and export", () => {
    expect(parseHandler("index.handler")).toEqual({
      ok: true,
      value: { handler: "index.handler", moduleDir: "", moduleName: "index", modulePath: "index", propertyPath: ["handler"] },
    });
  });

  it("keeps the directory part relative to the root", () => {
    const parsed = parseHandler("src/api/app.handler");
    expect(parsed.ok && parsed.value).toMatchObject({ moduleDir: "src/api", moduleName: "app", modulePath: "src/api/app" });
  });

  it("splits the base name at its FIRST dot: the rest is a property path", () => {
    const parsed = parseHandler("index.handlers.main");
    expect(parsed.ok && parsed.value).toMatchObject({ modulePath: "index", propertyPath: ["handlers", "main"] });
  });

  it("allows dots in directory names", () => {
    const parsed = parseHandler("v1.2/app.handler");
    expect(parsed.ok && parsed.value).toMatchObject({ moduleDir: "v1.2", moduleName: "app", propertyPath: ["handler"] });
  });

  it("treats /var/task/ (the task root) and ./ as the root", () => {
    const absolute = parseHandler("/var/task/src/app.handler");
    const dotted = parseHandler("./src/app.handler");
    expect(absolute.ok && absolute.value.modulePath).toBe("src/app");
    expect(dotted.ok && dotted.value.modulePath).toBe("src/app");
  });

  it("rejects a handler without a dot as the runtime does: Bad handler", () => {
    expect(parseHandler("index")).toEqual({ ok: false, errorType: "Runtime.MalformedHandlerName", errorMessage: "Bad handler" });
    expect(parseHandler("src.v1/index")).toMatchObject({ ok: false, errorMessage: "Bad handler" });
  });

  it("rejects any '..'", () => {
    for (const handler of ["../index.handler", "lib/../index.handler", "index..handler"]) {
      const parsed = parseHandler(handler);
      expect(parsed.ok).toBe(false);
      expect(!parsed.ok && parsed.errorMessage).toContain("is not a valid handler name");
    }
  });

  it("rejects absolute paths outside the task root, empty module and empty export names", () => {
    for (const handler of ["/etc/index.handler", ".handler", "src/.handler", "index.", "index.a."]) {
      expect(parseHandler(handler)).toMatchObject({ ok: false, errorType: "Runtime.MalformedHandlerName" });
    }
  });
});

describe("findHandlerModule", () => {
  it("looks for the extensionless file, then .js, .mjs and .cjs, in that order", () => {
    const all = { index: "", "index.js": "", "index.mjs": "", "index.cjs": "" };
    expect(findHandlerModule(files(all), "index")).toEqual({ path: "index", format: "commonjs" });
    const { index: _bare, ...noBare } = all;
    expect(findHandlerModule(files(noBare), "index")).toEqual({ path: "index.js", format: "commonjs" });
    const { "index.js": _js, ...noJs } = noBare;
    expect(findHandlerModule(files(noJs), "index")).toEqual({ path: "index.mjs", format: "module" });
    expect(findHandlerModule(files({ "index.cjs": "" }), "index")).toEqual({ path: "index.cjs", format: "commonjs" });
  });

  it("returns undefined when none exists (other extensions do not count)", () => {
    expect(findHandlerModule(files({ "index.ts": "", "main.js": "", "index/index.js": "" }), "index")).toBeUndefined();
  });

  it("treats .js as an ES module when the nearest package.json says type: module", () => {
    const zip = files({ "package.json": '{"type":"module"}', "index.js": "" });
    expect(findHandlerModule(zip, "index")).toEqual({ path: "index.js", format: "module" });
  });

  it("finds modules in subfolders, and the nearest package.json wins", () => {
    const zip = files({
      "package.json": '{"type":"module"}',
      "src/app.js": "",
      "legacy/package.json": '{"type":"commonjs"}',
      "legacy/app.js": "",
    });
    expect(findHandlerModule(zip, "src/app")).toEqual({ path: "src/app.js", format: "module" });
    expect(findHandlerModule(zip, "legacy/app")).toEqual({ path: "legacy/app.js", format: "commonjs" });
  });
});

describe("nearestPackageType", () => {
  it("is commonjs without any package.json, or with an unreadable one", () => {
    expect(nearestPackageType(files({}), "src")).toBe("commonjs");
    expect(nearestPackageType(files({ "package.json": "{not json" }), "")).toBe("commonjs");
  });

  it("stops searching at node_modules", () => {
    const zip = files({ "package.json": '{"type":"module"}' });
    expect(nearestPackageType(zip, "node_modules")).toBe("commonjs");
    expect(nearestPackageType(zip, "node_modules/dep/lib")).toBe("commonjs");
    expect(nearestPackageType(zip, "lib/deep")).toBe("module");
  });
});
