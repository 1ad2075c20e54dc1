import { invalidMessageContents, invalidParameterValue } from "./errors";
import type { MessageAttribute } from "./md5";
import { base64Bytes } from "./md5";

export const MESSAGE_ATTRIBUTES_MAX = 10;
export const ATTRIBUTE_NAME_MAX_CHARS = 256;
export const DATA_TYPE_MAX_CHARS = 256;

/** SQS's allowed characters: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF (lone surrogates are not). */
const INVALID_CHARACTER = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function hasInvalidCharacters(text: string): boolean {
  return INVALID_CHARACTER.test(text);
}

export function validateBody(body: string): void {
  if (body.length === 0) throw invalidParameterValue("The request must contain the parameter MessageBody.");
  if (hasInvalidCharacters(body)) throw invalidMessageContents();
}

const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]+$/;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Checks user message attributes as SQS does and returns them in stored form
 * (String/Number in StringValue, Binary in BinaryValue as base64), with the
 * bytes they count against MaximumMessageSize (name + type + value).
 */
export function validateMessageAttributes(input: unknown): { attributes: Record<string, MessageAttribute>; bytes: number } {
  if (input === undefined || input === null) return { attributes: {}, bytes: 0 };
  if (typeof input !== "object" || Array.isArray(input)) throw invalidParameterValue("Message attributes must be a map.");
  const entries = Object.entries(input as Record<string, unknown>);
  if (entries.length > MESSAGE_ATTRIBUTES_MAX) {
    throw invalidParameterValue(`Number of message attributes [${entries.length}] exceeds the allowed maximum [${MESSAGE_ATTRIBUTES_MAX}].`);
  }
  const attributes: Record<string, MessageAttribute> = {};
  let bytes = 0;
  for (const [name, raw] of entries) {
    validateAttributeName(name);
    const value = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
    const dataType = value.DataType;
    if (typeof dataType !== "string" || dataType === "") {
      throw invalidParameterValue(`The message attribute '${name}' must contain non-empty message attribute type.`);
    }
    const base = dataType.split(".", 1)[0];
    if ((base !== "String" && base !== "Number" && base !== "Binary") || dataType.length > DATA_TYPE_MAX_CHARS || dataType.endsWith(".")) {
      throw invalidParameterValue(`The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`);
    }
    if (value.StringListValues !== undefined || value.BinaryListValues !== undefined) {
      throw invalidParameterValue(`Message attribute list values in SendMessage operation are not supported.`);
    }
    if (base === "Binary") {
      const binary = value.BinaryValue;
      if (typeof binary !== "string" || binary === "") {
        throw invalidParameterValue(`The message attribute '${name}' with type 'Binary' must use field 'Binary'.`);
      }
      let decoded: Uint8Array;
      try {
        decoded = base64Bytes(binary);
      } catch {
        throw invalidParameterValue(`The message attribute '${name}' with type 'Binary' must use field 'Binary'.`);
      }
      attributes[name] = { DataType: dataType, BinaryValue: binary };
      bytes += byteLength(name) + byteLength(dataType) + decoded.length;
      continue;
    }
    const text = value.StringValue;
    if (typeof text !== "string" || value.BinaryValue !== undefined) {
      throw invalidParameterValue(`The message attribute '${name}' with type '${base}' must use field 'String'.`);
    }
    if (text === "") throw invalidParameterValue(`Message (user) attribute '${name}' must contain a non-empty value of type '${base}'.`);
    if (hasInvalidCharacters(text)) throw invalidMessageContents();
    if (base === "Number" && !NUMBER.test(text.trim())) {
      throw invalidParameterValue(`Can't cast the value of message (user) attribute '${name}' to a number.`);
    }
    attributes[name] = { DataType: dataType, StringValue: text };
    bytes += byteLength(name) + byteLength(dataType) + byteLength(text);
  }
  return { attributes, bytes };
}

function validateAttributeName(name: string): void {
  const bad =
    name.length === 0 ||
    name.length > ATTRIBUTE_NAME_MAX_CHARS ||
    !ATTRIBUTE_NAME.test(name) ||
    name.startsWith(".") ||
    name.endsWith(".") ||
    name.includes("..") ||
    /^(aws\.|amazon\.)/i.test(name);
  if (bad) {
    throw invalidParameterValue(
      `Message (user) attribute name '${name}' is invalid. The attribute name can contain only alphanumeric characters, hyphens (-), underscores (_), and periods (.). It can't begin or end with a period, contain consecutive periods, or begin with "AWS." or "Amazon.", and can be up to 256 characters long.`,
    );
  }
}

export function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

/**
 * The message attributes a receive asked for: `All` / `.*`, exact names, or
 * `prefix.*` (SQS's wildcard form).
 */
export function selectMessageAttributes(
  attributes: Record<string, MessageAttribute>,
  requested: readonly string[],
): Record<string, MessageAttribute> {
  if (requested.length === 0) return {};
  const out: Record<string, MessageAttribute> = {};
  for (const [name, value] of Object.entries(attributes)) {
    const wanted = requested.some((r) => r === "All" || r === ".*" || r === name || (r.endsWith(".*") && name.startsWith(r.slice(0, -1))));
    if (wanted) out[name] = value;
  }
  return out;
}
