import { accessDenied, invalidParameter, notFound, validationErrors } from "../errors";
import type { NameContext } from "./function-name";

/**
 * TagResource / UntagResource / ListTags rules, pure. Expected answers from
 * LocalStack's AWS-validated snapshots (tests/aws/services/lambda_/
 * test_lambda_api.snapshot.json, TestLambdaTag::test_tag_lifecycle,
 * test_tag_exceptions, test_tag_limits, test_tag_versions):
 * - a malformed Resource → ValidationException naming RESOURCE_PATTERN;
 * - a version or alias ARN → InvalidParameterValueException "Tags on function aliases and versions are not supported. Please specify a function ARN.";
 * - more than 50 tags in all → InvalidParameterValueException "Number of tags exceeds resource tag limit.";
 * - TagResource with no tags → InvalidParameterValueException "An error occurred and the request cannot be processed.";
 * - UntagResource without tagKeys → ValidationException "Value null at 'tagKeys' ... Member must not be null";
 * - untagging keys that are not there is a no-op (204).
 */

/** AWS's per-resource tag limit. */
export const MAX_TAGS_PER_FUNCTION = 50;
const TAG_KEY_MAX = 128;
const TAG_VALUE_MAX = 256;

export const RESOURCE_PATTERN =
  "arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)";
const RESOURCE = new RegExp(`^(?:${RESOURCE_PATTERN})$`);
const FUNCTION_RESOURCE = /^arn:aws[a-zA-Z-]*:lambda:([^:]+):(\d{12}):function:([a-zA-Z0-9-_]+)(?::(.+))?$/;

export type Tags = Record<string, string>;

/** The function a tagging Resource ARN names, in the caller's account and region. */
export function taggedFunction(resource: string, ctx: NameContext): string {
  if (!RESOURCE.test(resource)) {
    throw validationErrors([`Value '${resource}' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: ${RESOURCE_PATTERN}`]);
  }
  const match = FUNCTION_RESOURCE.exec(resource);
  // Layers, code signing configs, event source mappings and capacity providers: cellfn has none to tag.
  if (!match) throw notFound(`Resource not found: ${resource}`);
  const [, region, account, name, qualifier] = match;
  if (account !== ctx.accountId) throw accessDenied();
  if (region !== ctx.region) throw notFound(`Functions from '${region}' are not reachable in this region ('${ctx.region}')`);
  if (qualifier !== undefined) throw invalidParameter("Tags on function aliases and versions are not supported. Please specify a function ARN.");
  return name ?? "";
}

/** The tags after TagResource adds `added` to `current` (a key given again takes its new value). */
export function withTags(current: Tags, added: Tags): Tags {
  if (Object.keys(added).length === 0) throw invalidParameter("An error occurred and the request cannot be processed.");
  checkTags(added);
  const next = { ...current, ...added };
  if (Object.keys(next).length > MAX_TAGS_PER_FUNCTION) throw invalidParameter("Number of tags exceeds resource tag limit.");
  return next;
}

/** CreateFunction's Tags: the same limits, none required. */
export function initialTags(tags: Tags | undefined): Tags | null {
  if (tags === undefined || Object.keys(tags).length === 0) return null;
  checkTags(tags);
  if (Object.keys(tags).length > MAX_TAGS_PER_FUNCTION) throw invalidParameter("Number of tags exceeds resource tag limit.");
  return tags;
}

/** The tags after UntagResource; keys that are not there are ignored. */
export function withoutTags(current: Tags, keys: string[] | undefined): Tags {
  if (keys === undefined || keys.length === 0) {
    throw validationErrors(["Value null at 'tagKeys' failed to satisfy constraint: Member must not be null"]);
  }
  const next = { ...current };
  for (const key of keys) delete next[key];
  return next;
}

/** Key 1..128 and value 0..256 characters (the TagKey / TagValue shapes); `aws:` is AWS's own prefix. */
function checkTags(tags: Tags): void {
  const violations: string[] = [];
  for (const [key, value] of Object.entries(tags)) {
    if (key.length < 1 || key.length > TAG_KEY_MAX) {
      violations.push(`Value '${key}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to ${TAG_KEY_MAX}, Member must have length greater than or equal to 1]`);
    }
    if (value.length > TAG_VALUE_MAX) {
      violations.push(`Value '${value}' at 'tags.${key}' failed to satisfy constraint: Member must have length less than or equal to ${TAG_VALUE_MAX}`);
    }
  }
  if (violations.length > 0) throw validationErrors(violations);
  const reserved = Object.keys(tags).find((k) => k.toLowerCase().startsWith("aws:"));
  if (reserved !== undefined) throw invalidParameter(`Tag keys starting with 'aws:' are reserved for AWS use: ${reserved}`);
}
