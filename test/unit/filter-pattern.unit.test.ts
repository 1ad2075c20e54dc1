import { describe, expect, it } from "vitest";
import { FilterPatternError, matchesFilter, parseFilterPattern } from "../../src/logs/filter-pattern/parse";

const matches = (pattern: string, message: string) => matchesFilter(parseFilterPattern(pattern), message);
const select = (pattern: string, messages: readonly string[]) => messages.filter((m) => matches(pattern, m));

// Test cases are the examples of CloudWatch Logs' "Filter pattern syntax for
// metric filters, subscription filters, and filter log events" page: its
// example events and patterns, with the matches that page lists.
describe("filter patterns: unstructured terms (CloudWatch docs' examples)", () => {
  const events = [
    "[ERROR 400] BAD REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[WARN] UNAUTHORIZED REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
    "[INFO] Exiting",
    "[ERROR] Exiting, Failed to process the request",
  ];

  it("an empty pattern matches every event", () => {
    expect(select("", events)).toEqual(events);
    expect(select("   ", events)).toEqual(events);
  });

  it("a term matches events containing it, case-sensitively", () => {
    expect(select("ERROR", events)).toEqual([events[0], events[1], events[3], events[4], events[6]]);
    expect(select("error", events)).toEqual([]);
  });

  it("several terms must all occur", () => {
    expect(select("ERROR ARGUMENTS", events)).toEqual([events[3], events[4]]);
  });

  it("a quoted phrase is one term", () => {
    expect(select('"Failed to process the request"', events)).toEqual([events[6]]);
    expect(select('"INVALID ARGUMENTS"', events)).toEqual([events[4]]);
  });

  it("-term excludes events containing it", () => {
    expect(select("ERROR -Exiting", events)).toEqual([events[0], events[1], events[3], events[4]]);
  });

  it("?terms match events containing any of them", () => {
    expect(select("?ERROR ?WARN", events)).toEqual([events[0], events[1], events[2], events[3], events[4], events[6]]);
    expect(select("?WARN ?Exiting", events)).toEqual([events[2], events[5], events[6]]);
  });

  it("%regex% terms", () => {
    expect(select("%ERROR 4[01][0-9]%", events)).toEqual([events[0], events[1], events[3]]);
  });

  it("matches Lambda's tab-separated lines", () => {
    const line = "2026-12-04T05:00:00.000Z\t8f5e\tERROR\tpayment failed for order 42";
    expect(matches('ERROR "order 42"', line)).toBe(true);
    expect(matches("ERROR -payment", line)).toBe(false);
  });
});

describe("filter patterns: JSON (CloudWatch docs' example event)", () => {
  const event = JSON.stringify({
    eventType: "UpdateTrail",
    sourceIPAddress: "123.123.123.123",
    eventSource: "cloudtrail.amazonaws.com",
    arrayKey: ["value", "another value"],
    objectList: [
      { name: "a", id: 1 },
      { name: "b", id: 2 },
    ],
    SomeObject: null,
    ThisFlag: true,
    bandwidth: 100,
    latency: 500,
    user: { id: 2 },
    users: [{ email: "John.Doe@example.com" }],
    actions: ["GET", "PUT", "DELETE"],
  });

  it.each([
    ['{ $.eventType = "UpdateTrail" }', true],
    ['{ $.eventType = "DeleteTrail" }', false],
    ["{ $.sourceIPAddress != 123.123.* }", false],
    ["{ $.sourceIPAddress = 123.123.* }", true],
    ['{ $.eventSource = "*.amazonaws.com" }', true],
    ['{ $.arrayKey[0] = "value" }', true],
    ['{ $.arrayKey[1] = "value" }', false],
    ["{ $.objectList[1].id = 2 }", true],
    ["{ $.objectList[0].id = 2 }", false],
    ["{ $.bandwidth > 75 }", true],
    ["{ $.latency <= 500 }", true],
    ["{ $.latency < 500 }", false],
    ["{ $.SomeObject IS NULL }", true],
    ["{ $.bandwidth IS NULL }", false],
    ["{ $.SomeOtherObject NOT EXISTS }", true],
    ["{ $.SomeObject NOT EXISTS }", false],
    ["{ $.ThisFlag IS TRUE }", true],
    ["{ $.ThisFlag IS FALSE }", false],
    ['{ ($.user.id = 2 && $.users[0].email = "John.Doe@example.com") || $.actions[2] = "GET" }', true],
    ['{ ($.user.id = 3 && $.users[0].email = "John.Doe@example.com") || $.actions[2] = "GET" }', false],
    ['{ ($.user.id = 3 && $.users[0].email = "John.Doe@example.com") || $.actions[2] = "DELETE" }', true],
    ['{ $.eventType = %Update.*% }', true],
  ])("%s → %s", (pattern, expected) => {
    expect(matches(pattern, event)).toBe(expected);
  });

  it("the brief's example: level and latency together", () => {
    const pattern = parseFilterPattern('{ $.level = "ERROR" && $.latency > 100 }');
    expect(matchesFilter(pattern, '{"level":"ERROR","latency":150}')).toBe(true);
    expect(matchesFilter(pattern, '{"level":"ERROR","latency":50}')).toBe(false);
    expect(matchesFilter(pattern, '{"level":"INFO","latency":150}')).toBe(false);
    expect(matchesFilter(pattern, '{"level":"ERROR","latency":"150"}')).toBe(false);
    expect(matchesFilter(pattern, "level ERROR latency 150")).toBe(false);
    // JSON after Lambda's text prefix, as console.log(JSON.stringify(...)) writes it.
    expect(matchesFilter(pattern, '2026-12-04T05:00:00.000Z\tabc\tINFO\t{"level":"ERROR","latency":101}')).toBe(true);
  });
});

describe("filter patterns: space-delimited (CloudWatch docs' Apache example)", () => {
  const events = [
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
    '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324',
    '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355',
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /index.html HTTP/1.0" 404 12',
  ];

  it("names every field: matches events with exactly that many fields", () => {
    expect(select("[ip, user, username, timestamp, request, status_code, bytes]", events)).toEqual(events);
    expect(select("[ip, user, username, timestamp, request, status_code]", events)).toEqual([]);
  });

  it("conditions on fields: numbers, wildcards, || and &&", () => {
    expect(select("[ip, user, username, timestamp, request, status_code = 200, bytes]", events)).toEqual([events[0], events[2]]);
    expect(select("[ip, user, username, timestamp, request, status_code = 5*, bytes]", events)).toEqual([events[1]]);
    expect(select("[ip, user, username, timestamp, request, status_code = 4* || status_code = 5*, bytes]", events)).toEqual([events[1], events[3]]);
    expect(select("[ip, user, username, timestamp, request = *html*, status_code, bytes]", events)).toEqual([events[3]]);
    expect(select("[ip, user, username, timestamp, request, status_code = 200, bytes > 2000]", events)).toEqual([events[2]]);
    expect(select("[ip, user, username, timestamp, request, status_code != 200 && status_code != 404, bytes]", events)).toEqual([events[1]]);
  });

  it("... stands for any number of fields", () => {
    expect(select("[..., status_code = 404, bytes]", events)).toEqual([events[3]]);
    expect(select("[ip, ..., bytes < 100]", events)).toEqual([events[3]]);
    expect(select("[ip = 127.0.0.1, ...]", events)).toEqual(events);
    expect(select('[..., request = "GET /index.html HTTP/1.0", ...]', events)).toEqual([events[3]]);
  });
});

describe("filter patterns: errors", () => {
  it.each([
    ['"unterminated', /unterminated/],
    ["{ $.level = }", /Expected a value/],
    ["{ level = 1 }", /Expected a selector/],
    ["{ $.level = 1", /must end with/],
    ["{ ($.a = 1 }", /Missing '\)'/],
    ['{ $.a > "x" }', /needs a numeric value/],
    ["{ $.a IS MAYBE }", /Expected NULL, TRUE or FALSE/],
    ["{ $.a NOT THERE }", /Expected EXISTS/],
    ["{ $..a = 1 }", /Invalid selector/],
    ["[a, b = ]", /Invalid field/],
    ["[a, b", /must end with/],
    ["%[%", /Invalid regular expression/],
    ['ab"c', /quote the whole phrase/],
  ])("%s is refused", (pattern, message) => {
    expect(() => parseFilterPattern(pattern)).toThrow(FilterPatternError);
    expect(() => parseFilterPattern(pattern)).toThrow(message);
  });
});
