import type { Tags } from "../lambda/tags";
import { taggedFunction, withoutTags, withTags } from "../lambda/tags";
import { requireFunction } from "./resolve";
import type { TenantScope } from "./scope";

/**
 * TagResource / UntagResource / ListTags on a function ARN of the caller's
 * tenant. Tags belong to the function (not to a version), so they are not
 * part of what PublishVersion compares and do not change RevisionId, as on AWS.
 */
export async function listTags(scope: TenantScope, resource: string): Promise<{ Tags: Tags }> {
  const fn = await requireFunction(scope, taggedFunction(resource, scope.names));
  return { Tags: fn.tags ?? {} };
}

export async function tagResource(scope: TenantScope, resource: string, tags: Tags): Promise<void> {
  const name = taggedFunction(resource, scope.names);
  const fn = await requireFunction(scope, name);
  await scope.store.setTags(name, withTags(fn.tags ?? {}, tags));
}

export async function untagResource(scope: TenantScope, resource: string, keys: string[] | undefined): Promise<void> {
  const name = taggedFunction(resource, scope.names);
  const fn = await requireFunction(scope, name);
  await scope.store.setTags(name, withoutTags(fn.tags ?? {}, keys));
}
