import { describe, expect, it } from "vitest";
import {
  appLogLine,
  billedDurationMs,
  endLine,
  joinLog,
  reportLine,
  startLine,
  tailBase64,
  timeoutLine,
  timeoutMessage,
} from "../../src/runtime/log-format";

const decode = (base64: string): string => {
  const binary = atob(base64);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  // fatal: a tail cut inside a character fails here.
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
};
const byteLength = (text: string) => new TextEncoder().encode(text).byteLength;
const AT = new Date("2026-03-04T05:06:07.089Z");

describe("platform lines", () => {
  it("formats START and END", () => {
    expect(startLine("abc-123", "$LATEST")).toBe("START RequestId: abc-123 Version: $LATEST");
    expect(startLine("abc-123", "7")).toBe("START RequestId: abc-123 Version: 7");
    expect(endLine("abc-123")).toBe("END RequestId: abc-123");
  });

  it("formats REPORT with tab-separated fields, two decimals, a trailing tab and no Max Memory Used", () => {
    expect(reportLine({ requestId: "r1", durationMs: 12.345, billedDurationMs: 13, memorySizeMB: 128 })).toBe(
      "REPORT RequestId: r1\tDuration: 12.35 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t",
    );
    expect(reportLine({ requestId: "r1", durationMs: 3, billedDurationMs: 205, memorySizeMB: 512, initDurationMs: 201.456 })).toBe(
      "REPORT RequestId: r1\tDuration: 3.00 ms\tBilled Duration: 205 ms\tMemory Size: 512 MB\tInit Duration: 201.46 ms\t",
    );
    expect(reportLine({ requestId: "r1", durationMs: 1000.5, billedDurationMs: 1001, memorySizeMB: 128, status: "timeout" })).toBe(
      "REPORT RequestId: r1\tDuration: 1000.50 ms\tBilled Duration: 1001 ms\tMemory Size: 128 MB\tStatus: timeout\t",
    );
  });

  it("formats the timeout line and message with two decimals", () => {
    expect(timeoutLine(AT, "r1", 3)).toBe("2026-03-04T05:06:07.089Z r1 Task timed out after 3.00 seconds");
    expect(timeoutMessage("r1", 900)).toBe("RequestId: r1 Error: Task timed out after 900.00 seconds");
  });

  it("formats application lines, with 'undefined' for init-phase lines", () => {
    expect(appLogLine(AT, "r1", "INFO", "hello")).toBe("2026-03-04T05:06:07.089Z\tr1\tINFO\thello");
    expect(appLogLine(AT, undefined, "WARN", "at init")).toBe("2026-03-04T05:06:07.089Z\tundefined\tWARN\tat init");
  });

  it("bills whole milliseconds rounded up, at least 1, plus init on a cold start", () => {
    expect(billedDurationMs(12.01)).toBe(13);
    expect(billedDurationMs(13)).toBe(13);
    expect(billedDurationMs(0)).toBe(1);
    expect(billedDurationMs(2.5, 100.2)).toBe(103);
  });

  it("joins lines with a final newline", () => {
    expect(joinLog(["a", "b"])).toBe("a\nb\n");
    expect(joinLog([])).toBe("");
  });
});

describe("tailBase64", () => {
  it("encodes a short log whole", () => {
    const log = "START RequestId: r Version: $LATEST\nEND RequestId: r\n";
    expect(decode(tailBase64(log))).toBe(log);
    expect(tailBase64("")).toBe("");
  });

  it("keeps the last 4096 bytes of a long log", () => {
    const log = `${"a".repeat(5000)}${"b".repeat(4000)}END\n`;
    const tail = decode(tailBase64(log));
    expect(byteLength(tail)).toBe(4096);
    expect(tail).toBe(`${"a".repeat(92)}${"b".repeat(4000)}END\n`);
  });

  it("never cuts a multi-byte character: the tail starts at the next character", () => {
    // "é" is 2 bytes, "€" 3, "😀" 4: for every cut position the result must decode.
    for (const char of ["é", "€", "😀"]) {
      for (let pad = 0; pad < 4; pad++) {
        const log = "x".repeat(pad) + char.repeat(3000);
        const tail = decode(tailBase64(log, 4096));
        expect(byteLength(tail)).toBeLessThanOrEqual(4096);
        expect(byteLength(tail)).toBeGreaterThan(4096 - byteLength(char));
        expect(log.endsWith(tail)).toBe(true);
      }
    }
  });

  it("honours maxBytes", () => {
    expect(decode(tailBase64("0123456789", 4))).toBe("6789");
    expect(decode(tailBase64("ab€", 4))).toBe("b€");
    expect(decode(tailBase64("ab€", 2))).toBe("");
  });
});
