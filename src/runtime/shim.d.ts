/**
 * src/runtime/shim.js is imported as text (wrangler.toml's Text rule, which
 * the vitest plugin applies too): the executor ships it to the Worker Loader.
 * Its own types are checked through tsconfig.shim.json.
 */
declare const source: string;
export default source;
