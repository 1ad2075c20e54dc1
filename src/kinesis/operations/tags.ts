/** AddTagsToStream, RemoveTagsFromStream, ListTagsForStream. */
import type { JsonServiceCall } from "../../aws-json/service";
import { fromRefusal, streamNotFound } from "../errors";
import { ADD_TAGS, type AddTagsInput, LIST_TAGS, type ListTagsInput, REMOVE_TAGS, type RemoveTagsInput } from "../shapes";
import { directoryOf, streamTarget } from "../streams";
import { parseInput } from "../validation";
import { requireFullScope } from "./streams";

// The most a stream can hold, so an unpaged call sees every tag.
const DEFAULT_LIST_TAGS = 50;

export async function addTagsToStream(body: Record<string, unknown>, { env, principal }: JsonServiceCall): Promise<void> {
  const input = parseInput<AddTagsInput>(body, ADD_TAGS);
  const target = streamTarget(env, principal, input);
  requireFullScope(principal, env.REGION, "AddTagsToStream", target.name);
  const result = target.reachable ? await directoryOf(env, principal.tenantId).addTags(target.name, principal.accountId, input.Tags) : null;
  if (!result) throw streamNotFound(target.name, principal.accountId);
  if (!result.ok) throw fromRefusal(result);
}

export async function removeTagsFromStream(body: Record<string, unknown>, { env, principal }: JsonServiceCall): Promise<void> {
  const input = parseInput<RemoveTagsInput>(body, REMOVE_TAGS);
  const target = streamTarget(env, principal, input);
  requireFullScope(principal, env.REGION, "RemoveTagsFromStream", target.name);
  const removed = target.reachable && (await directoryOf(env, principal.tenantId).removeTags(target.name, input.TagKeys));
  if (!removed) throw streamNotFound(target.name, principal.accountId);
}

export async function listTagsForStream(body: Record<string, unknown>, { env, principal }: JsonServiceCall) {
  const input = parseInput<ListTagsInput>(body, LIST_TAGS);
  const target = streamTarget(env, principal, input);
  const tags = target.reachable ? await directoryOf(env, principal.tenantId).tags(target.name) : null;
  if (!tags) throw streamNotFound(target.name, principal.accountId);
  const after = input.ExclusiveStartTagKey;
  const keys = Object.keys(tags).filter((k) => after === undefined || k > after);
  const limit = input.Limit ?? DEFAULT_LIST_TAGS;
  return {
    Tags: keys.slice(0, limit).map((Key) => ({ Key, Value: tags[Key] ?? "" })),
    HasMoreTags: keys.length > limit,
  };
}
