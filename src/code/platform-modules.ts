/**
 * The preinstalled AWS SDK (src/code/platform-sdk.generated.ts) as modules of
 * a function's Dynamic Worker. The bundler (src/code/bundler.ts) leaves a
 * package the zip does not ship as an import of `./platform-sdk/<package>.js`
 * instead of copying it into the bundle, and the executor
 * (src/runtime/executor.ts) puts the packages a bundle imports beside it.
 * So a function's stored bundle does not grow by the SDK it imports, and the
 * isolate compiles the SDK's minified text as built (the bundle is not
 * minified: a re-printed copy of a client is about 40 % larger).
 */
import { PLATFORM_SDK } from "./platform-sdk.generated";

/** "@aws-sdk/client-lambda" → "platform-sdk/aws-sdk/client-lambda.js". */
export function platformSdkModule(name: string): string {
  return `platform-sdk/${name.replace(/^@/, "")}.js`;
}

const IMPORT = /from ?"\.\/(platform-sdk\/aws-sdk\/[\w.-]+\.js)"/g;
const byModule = new Map(Object.keys(PLATFORM_SDK).map((name) => [platformSdkModule(name), name]));

/** The preinstalled packages `bundle` imports, as Worker Loader modules (name → source). */
export function platformSdkModules(bundle: string): Record<string, string> {
  const modules: Record<string, string> = {};
  if (!bundle.includes("./platform-sdk/")) return modules;
  for (const [, module] of bundle.matchAll(IMPORT)) {
    const name = byModule.get(module!);
    if (name !== undefined) modules[module!] = PLATFORM_SDK[name]!;
  }
  return modules;
}

const builtinsOf = new Map<string, string[]>();
/** The Node built-ins a preinstalled package imports (the runtime prepares them as the bundle's own). */
export function platformSdkBuiltins(name: string): string[] {
  let names = builtinsOf.get(name);
  if (names === undefined) {
    names = [...new Set([...(PLATFORM_SDK[name] ?? "").matchAll(/from ?"node:([\w/]+)"/g)].map((match) => match[1]!))];
    builtinsOf.set(name, names);
  }
  return names;
}
