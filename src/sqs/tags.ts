import { invalidParameterValue } from "./errors";

export const TAGS_MAX = 50;
const TAG_KEY_MAX_CHARS = 128;
const TAG_VALUE_MAX_CHARS = 256;

/** Queue tags as AWS limits them: at most 50, keys 1-128 and values up to 256 characters, no `aws:` prefix. */
export function validateTags(tags: Record<string, string>): void {
  const entries = Object.entries(tags);
  if (entries.length > TAGS_MAX) throw invalidParameterValue(`Too many tags added for queue. A queue can have at most ${TAGS_MAX} tags.`);
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > TAG_KEY_MAX_CHARS || key.toLowerCase().startsWith("aws:")) {
      throw invalidParameterValue(`Tag key ${key} is invalid.`);
    }
    if (value.length > TAG_VALUE_MAX_CHARS) throw invalidParameterValue(`Tag value for key ${key} is invalid.`);
  }
}
