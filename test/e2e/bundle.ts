/** Bundles a CommonJS handler source with its npm packages (from this repository's node_modules) into one file, as users bundle theirs. */
import { build } from "esbuild";
import { ROOT } from "./harness";

export async function bundled(source: string): Promise<string> {
  const out = await build({
    stdin: { contents: source, resolveDir: ROOT, loader: "js" },
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node22",
    write: false,
    logLevel: "silent",
  });
  return out.outputFiles[0]?.text ?? "";
}
