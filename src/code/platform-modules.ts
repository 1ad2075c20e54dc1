/**
 * The preinstalled AWS SDK (src/code/platform-sdk.generated.ts) as modules of
 * a function's Dynamic Worker. The bundler (src/code/bundler.ts) leaves a
 * package the zip does not ship as an import of `./platform-sdk/<package>.js`
 * instead of copying it into the bundle, and the executor
 * (src/runtime/worker-code.ts) puts the packages a bundle imports beside it.
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

/** A package's module imports the preinstalled packages it uses beside it (`./client-dynamodb.js`). */
const PEER = /from ?"\.\/([\w.-]+\.js)"/g;
const peersOf = new Map<string, string[]>();
function peers(name: string): string[] {
  let names = peersOf.get(name);
  if (names === undefined) {
    names = [...(PLATFORM_SDK[name] ?? "").matchAll(PEER)].map(([, file]) => byModule.get(`platform-sdk/aws-sdk/${file}`)).filter((peer) => peer !== undefined);
    peersOf.set(name, names);
  }
  return names;
}

/** `names` and the preinstalled packages they import, transitively. */
function withPeers(names: Iterable<string>): Set<string> {
  const all = new Set<string>();
  const visit = (name: string) => {
    if (all.has(name) || !Object.hasOwn(PLATFORM_SDK, name)) return;
    all.add(name);
    for (const peer of peers(name)) visit(peer);
  };
  for (const name of names) visit(name);
  return all;
}

/** The preinstalled packages `bundle` imports (and those they import), as Worker Loader modules (name → source). */
export function platformSdkModules(bundle: string): Record<string, string> {
  const modules: Record<string, string> = {};
  if (!bundle.includes("./platform-sdk/")) return modules;
  const imported = [...bundle.matchAll(IMPORT)].map(([, module]) => byModule.get(module!)).filter((name) => name !== undefined);
  for (const name of withPeers(imported)) modules[platformSdkModule(name)] = PLATFORM_SDK[name]!;
  return modules;
}

const builtinsOf = new Map<string, string[]>();
/** The Node built-ins a preinstalled package (and the packages it imports) imports: the runtime prepares them as the bundle's own. */
export function platformSdkBuiltins(name: string): string[] {
  let names = builtinsOf.get(name);
  if (names === undefined) {
    const texts = [...withPeers([name])].map((module) => PLATFORM_SDK[module]!);
    names = [...new Set(texts.flatMap((text) => [...text.matchAll(/from ?"node:([\w/]+)"/g)].map((match) => match[1]!)))];
    builtinsOf.set(name, names);
  }
  return names;
}
