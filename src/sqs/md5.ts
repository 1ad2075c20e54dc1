import { createHash } from "node:crypto";

/** A message attribute as stored: the value is a string or, for Binary types, bytes (base64 on the wire). */
export interface MessageAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

const encoder = new TextEncoder();
const STRING_TRANSPORT = 1;
const BINARY_TRANSPORT = 2;

export function md5Hex(data: string | Uint8Array): string {
  return createHash("md5").update(data).digest("hex");
}

/**
 * MD5OfMessageAttributes as SQS computes it (and the Java SDK and moto check
 * it): attributes sorted by name, each as length-prefixed (4-byte big-endian)
 * name, length-prefixed data type, one transport byte (1 string, 2 binary)
 * and the length-prefixed value bytes.
 */
export function md5OfMessageAttributes(attributes: Record<string, MessageAttribute>): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const parts: Uint8Array[] = [];
  for (const name of names) {
    const attribute = attributes[name] as MessageAttribute;
    parts.push(lengthPrefixed(encoder.encode(name)), lengthPrefixed(encoder.encode(attribute.DataType)));
    if (attribute.BinaryValue !== undefined) {
      parts.push(Uint8Array.of(BINARY_TRANSPORT), lengthPrefixed(base64Bytes(attribute.BinaryValue)));
    } else {
      parts.push(Uint8Array.of(STRING_TRANSPORT), lengthPrefixed(encoder.encode(attribute.StringValue ?? "")));
    }
  }
  return md5Hex(concat(parts));
}

function lengthPrefixed(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function base64Bytes(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
