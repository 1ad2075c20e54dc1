/**
 * Names the bundler (src/code/bundler.ts), the executor and the runtime shim
 * (src/runtime/shim.js) must agree on. The shim imports them as the module
 * `markers.js`, which the executor builds from this one (`MARKERS_MODULE`).
 */

/** Appended to a bundle whose handler module is CommonJS: its `default` is then module.exports. */
export const COMMONJS_MARKER = "__cellfnCommonJS";
/** The bundle's export that runs the function's module code (the init phase) and resolves to its module. */
export const LOAD_EXPORT = "__cellfnLoad";
/**
 * The bundle's export saying which Node built-ins it imports and whether it
 * has run-time require() calls, `{ builtins: string[], require: boolean }`:
 * the shim then prepares only those (src/runtime/shim.js). Bundles built
 * before it existed lack it and get everything prepared, as they used to.
 */
export const NEEDS_EXPORT = "__cellfnNeeds";
/** Header the shim puts on every fetch() of an invocation: the signed lineage token for the egress gateway. */
export const INVOCATION_HEADER = "x-cellfn-invocation";

/** The text of `markers.js` inside every Dynamic Worker. */
export const MARKERS_MODULE = Object.entries({ COMMONJS_MARKER, LOAD_EXPORT, NEEDS_EXPORT, INVOCATION_HEADER })
  .map(([name, value]) => `export const ${name} = ${JSON.stringify(value)};`)
  .join("\n");
