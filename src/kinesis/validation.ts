/**
 * Request validation the way Kinesis (a Coral service) answers it: first the
 * JSON types (a mismatch is a SerializationException), then the model's
 * constraints, all of them collected into one ValidationException:
 * `2 validation errors detected: Value 'x' at 'streamName' failed to satisfy
 * constraint: Member must ...; Value null at 'partitionKey' ...`.
 * Blobs arrive as base64 and leave this module as bytes. Unknown members are
 * ignored, as AWS ignores them.
 */
import { fromBase64 } from "../util/bytes";
import { AwsJsonError } from "../aws-json/errors";

export type Shape =
  | { type: "string"; min?: number; max?: number; pattern?: string; enum?: readonly string[] }
  | { type: "integer"; min?: number; max?: number }
  | { type: "blob"; max?: number }
  | { type: "boolean" }
  | { type: "timestamp" }
  | { type: "list"; member: Shape; min?: number; max?: number; memberLabel?: string }
  | { type: "map"; value: Shape; min?: number; max?: number; keyMin?: number; keyMax?: number }
  | { type: "structure"; members: Members };

export type Members = Record<string, { shape: Shape; required?: boolean }>;

const MAX_REPORTED_ERRORS = 10;

function serialization(message: string): AwsJsonError {
  return new AwsJsonError(400, "SerializationException", message);
}

/** Checks JSON types and converts blobs; throws SerializationException. */
function convert(value: unknown, shape: Shape): unknown {
  if (value === null || value === undefined) return undefined;
  const isObject = typeof value === "object";
  const structural = () =>
    Array.isArray(value) ? serialization("Start of list found where not expected") : serialization("Start of structure or map found where not expected.");
  switch (shape.type) {
    case "string":
      if (isObject) throw structural();
      if (typeof value !== "string") throw serialization(`class ${javaClass(value)} can not be converted to an String`);
      return value;
    case "integer":
      if (isObject) throw structural();
      if (typeof value !== "number") throw serialization(`class ${javaClass(value)} can not be converted to an Integer`);
      return Math.min(Math.floor(value), 2147483647);
    case "boolean":
      if (isObject) throw structural();
      if (typeof value !== "boolean") throw serialization(`class ${javaClass(value)} can not be converted to an Boolean`);
      return value;
    case "timestamp":
      if (isObject) throw structural();
      if (typeof value !== "number") throw serialization(`class ${javaClass(value)} can not be converted to milliseconds since epoch`);
      return value;
    case "blob":
      if (isObject) throw structural();
      if (typeof value !== "string") throw serialization(`class ${javaClass(value)} can not be converted to a Blob`);
      return decodeBlob(value);
    case "list":
      if (!isObject) throw serialization("Expected list or null");
      if (!Array.isArray(value)) throw serialization("Start of structure or map found where not expected.");
      return value.map((item) => convert(item, shape.member));
    case "map": {
      if (!isObject) throw serialization("Expected map or null");
      if (Array.isArray(value)) throw serialization("Start of list found where not expected");
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = convert(item, shape.value);
      return out;
    }
    case "structure": {
      if (!isObject) throw serialization("Expected null");
      if (Array.isArray(value)) throw serialization("Start of list found where not expected");
      const source = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [name, member] of Object.entries(shape.members)) {
        const converted = convert(source[name], member.shape);
        if (converted !== undefined) out[name] = converted;
      }
      return out;
    }
  }
}

function javaClass(value: unknown): string {
  if (typeof value === "boolean") return "java.lang.Boolean";
  if (typeof value === "number") return "com.amazon.coral.value.json.numbers.TruncatingBigNumber";
  return "java.lang.String";
}

function decodeBlob(text: string): Uint8Array {
  if (text.length % 4 !== 0) {
    throw serialization(`'${text}' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: ${text.length}`);
  }
  const bad = /[^A-Za-z0-9+/=]|=[^=]/.exec(text);
  if (bad) throw serialization(`'${text}' can not be converted to a Blob: Invalid Base64 character: '${bad[0][0]}'`);
  try {
    return fromBase64(text);
  } catch {
    throw serialization(`'${text}' can not be converted to a Blob: Invalid last non-pad Base64 character dectected`);
  }
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function render(value: unknown, shape: Shape): string {
  if (value === undefined) return "null";
  if (value instanceof Uint8Array) return `'java.nio.HeapByteBuffer[pos=0 lim=${value.length} cap=${value.length}]'`;
  if (shape.type === "list" && Array.isArray(value)) return `'[${value.map((v) => shape.memberLabel ?? String(v)).join(", ")}]'`;
  if (shape.type === "map" && typeof value === "object" && value !== null) {
    return `'{${Object.entries(value).map(([k, v]) => `${k}=${String(v)}`).join(", ")}}'`;
  }
  return `'${String(value)}'`;
}

function check(value: unknown, shape: Shape, required: boolean, path: string, errors: string[]): void {
  const fail = (constraint: string) => {
    if (errors.length < MAX_REPORTED_ERRORS) errors.push(`Value ${render(value, shape)} at '${path}' failed to satisfy constraint: ${constraint}`);
  };
  if (value === undefined) {
    if (required) fail("Member must not be null");
    return;
  }
  const length = lengthOf(value);
  if ("min" in shape && shape.min !== undefined) {
    if (shape.type === "integer" ? (value as number) < shape.min : length < shape.min) {
      fail(shape.type === "integer" ? `Member must have value greater than or equal to ${shape.min}` : `Member must have length greater than or equal to ${shape.min}`);
    }
  }
  if ("max" in shape && shape.max !== undefined) {
    if (shape.type === "integer" ? (value as number) > shape.max : length > shape.max) {
      fail(shape.type === "integer" ? `Member must have value less than or equal to ${shape.max}` : `Member must have length less than or equal to ${shape.max}`);
    }
  }
  if (shape.type === "string" && shape.pattern !== undefined && !new RegExp(`^(?:${shape.pattern})$`).test(value as string)) {
    fail(`Member must satisfy regular expression pattern: ${shape.pattern}`);
  }
  if (shape.type === "string" && shape.enum !== undefined && !shape.enum.includes(value as string)) {
    fail(`Member must satisfy enum value set: [${shape.enum.join(", ")}]`);
  }
  if (shape.type === "map" && (shape.keyMin !== undefined || shape.keyMax !== undefined)) {
    const min = shape.keyMin ?? 0;
    const max = shape.keyMax ?? Number.MAX_SAFE_INTEGER;
    if (!Object.keys(value as object).every((k) => k.length >= min && k.length <= max)) {
      fail(`Map keys must satisfy constraint: [Member must have length less than or equal to ${max}, Member must have length greater than or equal to ${min}]`);
    }
  }
  if (shape.type === "list") {
    (value as unknown[]).forEach((item, i) => check(item, shape.member, false, `${path}.${i + 1}.member`, errors));
  }
  if (shape.type === "structure") checkMembers(value as Record<string, unknown>, shape.members, `${path}.`, errors);
}

function lengthOf(value: unknown): number {
  if (typeof value === "string" || value instanceof Uint8Array || Array.isArray(value)) return value.length;
  if (typeof value === "object" && value !== null) return Object.keys(value).length;
  return 0;
}

function checkMembers(data: Record<string, unknown>, members: Members, prefix: string, errors: string[]): void {
  for (const [name, member] of Object.entries(members)) {
    check(data[name], member.shape, member.required === true, `${prefix}${lowerFirst(name)}`, errors);
  }
}

/**
 * The request body checked against an operation's members. The result is
 * typed by the caller: after these checks its members have the shapes named.
 */
export function parseInput<T>(body: Record<string, unknown>, members: Members): T {
  const converted = convert(body, { type: "structure", members }) as Record<string, unknown>;
  const errors: string[] = [];
  checkMembers(converted, members, "", errors);
  if (errors.length > 0) {
    const count = errors.length === 1 ? "1 validation error detected" : `${errors.length} validation errors detected`;
    throw new AwsJsonError(400, "ValidationException", `${count}: ${errors.join("; ")}`);
  }
  return converted as T;
}
