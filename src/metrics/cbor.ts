/**
 * The subset of CBOR (RFC 8949) the smithy-rpc-v2-cbor protocol uses:
 * integers, floats (half, single, double), text and byte strings, arrays,
 * maps with text keys, true/false/null/undefined, definite and indefinite
 * lengths, and tag 1 (epoch-seconds timestamps), decoded to its number.
 * Encoding writes definite lengths, integers as integers, other numbers as
 * doubles, and `EpochSeconds` values as tag 1. Pure.
 */

/** A timestamp to encode as CBOR tag 1 (what Smithy requires for timestamp members). */
export class EpochSeconds {
  constructor(readonly seconds: number) {}
}

export class CborError extends Error {}

const BREAK = 0xff;

export function decodeCbor(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) return {};
  const reader = new Reader(bytes);
  const value = reader.item();
  if (reader.offset !== bytes.byteLength) throw new CborError("trailing bytes after the CBOR item");
  return value;
}

class Reader {
  offset = 0;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #need(n: number): void {
    if (this.offset + n > this.#bytes.byteLength) throw new CborError("truncated CBOR");
  }

  #byte(): number {
    this.#need(1);
    return this.#bytes[this.offset++] ?? 0;
  }

  /** The argument of a head byte: the value (or length) in its low 5 bits and the bytes after it; null for indefinite length. */
  #argument(info: number): number | null {
    if (info < 24) return info;
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : info === 31 ? 0 : -1;
    if (size < 0) throw new CborError(`reserved CBOR additional information ${info}`);
    if (size === 0) return null;
    this.#need(size);
    const at = this.offset;
    this.offset += size;
    if (size === 1) return this.#view.getUint8(at);
    if (size === 2) return this.#view.getUint16(at);
    if (size === 4) return this.#view.getUint32(at);
    return Number(this.#view.getBigUint64(at));
  }

  item(): unknown {
    const head = this.#byte();
    const major = head >> 5;
    const info = head & 0x1f;
    if (major === 7) return this.#simple(info);
    const arg = this.#argument(info);
    switch (major) {
      case 0:
        return arg;
      case 1:
        return -1 - (arg ?? 0);
      case 2:
      case 3: {
        const bytes = arg === null ? this.#chunks(major) : this.#take(arg);
        return major === 3 ? new TextDecoder().decode(bytes) : bytes;
      }
      case 4: {
        const items: unknown[] = [];
        while (arg === null ? !this.#atBreak() : items.length < arg) items.push(this.item());
        return items;
      }
      case 5: {
        const map: Record<string, unknown> = {};
        for (let n = 0; arg === null ? !this.#atBreak() : n < arg; n++) {
          const key = this.item();
          if (typeof key !== "string") throw new CborError("CBOR map keys must be text");
          map[key] = this.item();
        }
        return map;
      }
      default: {
        // Tag: 1 is an epoch timestamp (its number); others keep their content.
        const content = this.item();
        if (arg === 1 && typeof content !== "number") throw new CborError("CBOR tag 1 must hold a number");
        return content;
      }
    }
  }

  #simple(info: number): unknown {
    if (info === 20) return false;
    if (info === 21) return true;
    if (info === 22) return null;
    if (info === 23) return undefined;
    if (info === 25) {
      this.#need(2);
      const half = this.#view.getUint16(this.offset);
      this.offset += 2;
      return halfToNumber(half);
    }
    if (info === 26 || info === 27) {
      const size = info === 26 ? 4 : 8;
      this.#need(size);
      const value = size === 4 ? this.#view.getFloat32(this.offset) : this.#view.getFloat64(this.offset);
      this.offset += size;
      return value;
    }
    throw new CborError(`unsupported CBOR simple value ${info}`);
  }

  #take(n: number): Uint8Array {
    this.#need(n);
    const out = this.#bytes.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  #atBreak(): boolean {
    this.#need(1);
    if (this.#bytes[this.offset] !== BREAK) return false;
    this.offset++;
    return true;
  }

  #chunks(major: number): Uint8Array {
    const parts: Uint8Array[] = [];
    while (!this.#atBreak()) {
      const head = this.#byte();
      if (head >> 5 !== major) throw new CborError("mixed chunks in an indefinite-length string");
      const length = this.#argument(head & 0x1f);
      if (length === null) throw new CborError("nested indefinite-length string");
      parts.push(this.#take(length));
    }
    const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.byteLength;
    }
    return out;
  }
}

function halfToNumber(half: number): number {
  const exponent = (half >> 10) & 0x1f;
  const fraction = half & 0x3ff;
  const sign = half & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

export function encodeCbor(value: unknown): Uint8Array {
  const out: number[] = [];
  write(out, value);
  return Uint8Array.from(out);
}

function head(out: number[], major: number, n: number): void {
  const m = major << 5;
  if (n < 24) out.push(m | n);
  else if (n < 0x100) out.push(m | 24, n);
  else if (n < 0x10000) out.push(m | 25, n >> 8, n & 0xff);
  else if (n < 0x100000000) out.push(m | 26, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  else {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(n));
    out.push(m | 27, ...bytes);
  }
}

function write(out: number[], value: unknown): void {
  if (value === null || value === undefined) out.push(0xf6);
  else if (value === true) out.push(0xf5);
  else if (value === false) out.push(0xf4);
  else if (value instanceof EpochSeconds) {
    out.push(0xc1);
    write(out, value.seconds);
  } else if (typeof value === "number") {
    if (Number.isSafeInteger(value)) head(out, value < 0 ? 1 : 0, value < 0 ? -1 - value : value);
    else {
      const bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setFloat64(0, value);
      out.push(0xfb, ...bytes);
    }
  } else if (typeof value === "string") {
    const bytes = new TextEncoder().encode(value);
    head(out, 3, bytes.byteLength);
    for (const b of bytes) out.push(b);
  } else if (value instanceof Uint8Array) {
    head(out, 2, value.byteLength);
    for (const b of value) out.push(b);
  } else if (Array.isArray(value)) {
    head(out, 4, value.length);
    for (const item of value) write(out, item);
  } else if (typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    head(out, 5, entries.length);
    for (const [key, item] of entries) {
      write(out, key);
      write(out, item);
    }
  } else {
    throw new CborError(`cannot encode a ${typeof value} as CBOR`);
  }
}
