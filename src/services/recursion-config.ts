import { forgetFunction } from "../invoke/target";
import type { RecursiveLoop } from "../invoke/recursion";
import { requireFunction } from "./resolve";
import type { TenantScope } from "./scope";

/** GetFunctionRecursionConfig: `Terminate` unless PutFunctionRecursionConfig said `Allow`. */
export async function getRecursionConfig(scope: TenantScope, name: string): Promise<{ RecursiveLoop: RecursiveLoop }> {
  const fn = await requireFunction(scope, name);
  return { RecursiveLoop: fn.recursiveLoop };
}

export async function putRecursionConfig(scope: TenantScope, name: string, value: RecursiveLoop): Promise<{ RecursiveLoop: RecursiveLoop }> {
  await requireFunction(scope, name);
  await scope.store.setRecursiveLoop(name, value);
  // Invokes read the setting from the metadata cache.
  forgetFunction(scope.principal.tenantId, name);
  return { RecursiveLoop: value };
}
