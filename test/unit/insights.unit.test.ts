import { describe, expect, it } from "vitest";
import type { QueryEvent } from "../../src/logs/insights/fields";
import { discoverFields } from "../../src/logs/insights/fields";
import { MalformedQueryError, parseQuery } from "../../src/logs/insights/parse";
import { insightsTime, QueryRun, type QueryOutput } from "../../src/logs/insights/run";

const T0 = Date.UTC(2026, 11, 4, 5, 0, 0);
const STREAM = "2026/12/04/[$LATEST]abc";

function event(timestamp: number, message: string, logStream = STREAM): QueryEvent {
  return { timestamp, ingestionTime: timestamp + 5, message, logStream, logGroup: "/aws/lambda/orders", accountId: "123456789012" };
}

/**
 * Ten invocations, durations 1..10 ms, the first five in second 0 and the
 * rest in second 1; invocation 1 is a cold start (Init Duration 100 ms);
 * even invocations log a JSON line with level ERROR.
 */
function invocations(): QueryEvent[] {
  const events: QueryEvent[] = [];
  for (let i = 1; i <= 10; i++) {
    const at = T0 + (i <= 5 ? 0 : 1000) + i * 10;
    const id = `req-${i}`;
    events.push(event(at, `START RequestId: ${id} Version: $LATEST`));
    const body = JSON.stringify({ level: i % 2 === 0 ? "ERROR" : "INFO", latency: i * 100, user: { id: `u${i % 3}` } });
    events.push(event(at + 1, `${new Date(at + 1).toISOString()}\t${id}\tINFO\t${body}`));
    events.push(event(at + 2, `${new Date(at + 2).toISOString()}\t${id}\tINFO\tuser=u${i} action=${i % 2 === 0 ? "buy" : "view"} items=${i}`));
    events.push(event(at + 3, `END RequestId: ${id}`));
    const init = i === 1 ? "\tInit Duration: 100.00 ms" : "";
    events.push(event(at + 4, `REPORT RequestId: ${id}\tDuration: ${i}.00 ms\tBilled Duration: ${i} ms\tMemory Size: 128 MB\tMax Memory Used: ${60 + i} MB${init}\t`));
  }
  return events;
}

function run(query: string, events: QueryEvent[] = invocations(), limit?: number): QueryOutput {
  const r = new QueryRun(parseQuery(query), limit);
  for (const e of events) r.add(e);
  return r.finish();
}

const table = (output: QueryOutput) => output.rows.map((row) => Object.fromEntries(row.map((f) => [f.field, f.value])));

describe("Insights: discovered fields", () => {
  it("reads Lambda's REPORT line as numbers, START/END as @type and @requestId", () => {
    const report = discoverFields(event(T0, "REPORT RequestId: r-1\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\tInit Duration: 150.50 ms\t"));
    expect(Object.fromEntries(report)).toMatchObject({
      "@type": "REPORT",
      "@requestId": "r-1",
      "@duration": 12.34,
      "@billedDuration": 13,
      "@memorySize": 128,
      "@maxMemoryUsed": 70,
      "@initDuration": 150.5,
      "@log": "123456789012:/aws/lambda/orders",
      "@logStream": STREAM,
    });
    expect(discoverFields(event(T0, "START RequestId: r-2 Version: 3")).get("@type")).toBe("START");
    expect(discoverFields(event(T0, "END RequestId: r-2")).get("@requestId")).toBe("r-2");
  });

  it("flattens JSON messages, also after Lambda's text prefix", () => {
    const record = discoverFields(event(T0, '{"level":"WARN","user":{"id":7},"tags":["a","b"]}'));
    expect(record.get("level")).toBe("WARN");
    expect(record.get("user.id")).toBe(7);
    expect(record.get("tags.1")).toBe("b");
    const line = discoverFields(event(T0, '2026-12-04T05:00:00.000Z\tr-9\tINFO\t{"level":"ERROR"}'));
    expect(line.get("@requestId")).toBe("r-9");
    expect(line.get("level")).toBe("ERROR");
  });
});

describe("Insights: stats (exact counts and percentiles on known data)", () => {
  it("count(*) and avg(@duration) by bin(1s)", () => {
    const output = run("filter @type = 'REPORT' | stats count(*), avg(@duration) by bin(1s)");
    expect(table(output)).toEqual([
      { "bin(1s)": insightsTime(T0), "count(*)": "5", "avg(@duration)": "3" },
      { "bin(1s)": insightsTime(T0 + 1000), "count(*)": "5", "avg(@duration)": "8" },
    ]);
    expect(output.rows[0]?.map((f) => f.field)).toEqual(["bin(1s)", "count(*)", "avg(@duration)"]);
    expect(output.recordsScanned).toBe(50);
    expect(output.recordsMatched).toBe(10);
  });

  it("min, max, sum, pct and count(field) over all reports", () => {
    const output = run(
      "stats min(@duration) as lo, max(@duration) as hi, sum(@billedDuration) as billed, pct(@duration, 50) as p50, pct(@duration, 90) as p90, pct(@duration, 99), count(@initDuration) as cold, count(*) as lines",
    );
    expect(table(output)).toEqual([{ lo: "1", hi: "10", billed: "55", p50: "5", p90: "9", "pct(@duration, 99)": "10", cold: "1", lines: "50" }]);
  });

  it("stats by a JSON field, with count_distinct, sorted and limited", () => {
    const output = run("filter ispresent(level) | stats count(*) as n, count_distinct(user.id) as users, avg(latency) as latency by level | sort n desc | limit 1");
    // INFO: i = 1,3,5,7,9 → latency avg 500; ERROR: 2,4,6,8,10 → 600; users u0..u2 both.
    expect(table(output)).toEqual([{ level: "ERROR", n: "5", users: "3", latency: "600" }]);
  });

  it("percentiles by nearest rank on 1..100", () => {
    const events = Array.from({ length: 100 }, (_, i) => event(T0 + i, JSON.stringify({ v: 100 - i })));
    expect(table(run("stats pct(v, 50) as p50, pct(v, 95) as p95, pct(v, 100) as p100, pct(v, 0) as p0, avg(v) as avg", events))).toEqual([
      { p50: "50", p95: "95", p100: "100", p0: "1", avg: "50.5" },
    ]);
  });
});

describe("Insights: fields, filter, parse, sort, limit", () => {
  it("lists the newest events first with the fields asked for", () => {
    const output = run("fields @timestamp, @requestId, @duration | filter @type = 'REPORT' and @duration > 7 | limit 2");
    expect(table(output)).toEqual([
      { "@timestamp": insightsTime(T0 + 1000 + 104), "@requestId": "req-10", "@duration": "10" },
      { "@timestamp": insightsTime(T0 + 1000 + 94), "@requestId": "req-9", "@duration": "9" },
    ]);
  });

  it("filter with like (text and regex), =~, not, or, in", () => {
    const count = (filter: string) => Number(table(run(`filter ${filter} | stats count(*) as n`))[0]?.n ?? 0);
    expect(count("@message like 'action=buy'")).toBe(5);
    expect(count("@message like /action=(buy|view)/")).toBe(10);
    expect(count("@message =~ /(?i)ACTION=VIEW/")).toBe(5);
    expect(count("@message not like /action=/")).toBe(40);
    expect(count("@type = 'START' or @type = 'END'")).toBe(20);
    expect(count("not ispresent(@type)")).toBe(20);
    expect(count("@requestId in ['req-1', 'req-2'] and @type = 'REPORT'")).toBe(2);
    expect(count("@duration >= 3 and @duration < 6")).toBe(3);
    expect(count("latency / 100 = @nothing")).toBe(0);
    expect(count("level = 'ERROR' and latency >= 600")).toBe(3);
  });

  it("parse with a glob and with a regex, then stats over the parsed fields", () => {
    expect(table(run("parse @message 'user=* action=* items=*' as user, action, items | filter ispresent(action) | stats sum(items) as items by action"))).toEqual([
      { action: "buy", items: "30" },
      { action: "view", items: "25" },
    ]);
    expect(table(run("parse @message /user=(?<who>u\\d+) action=(?<what>\\w+)/ | filter who = 'u3' | fields who, what"))).toEqual([{ who: "u3", what: "view" }]);
  });

  it("sort ascending by a number, display picks the columns", () => {
    const output = run("filter @type = 'REPORT' | sort @duration asc | limit 3 | display @requestId, @duration");
    expect(table(output)).toEqual([
      { "@requestId": "req-1", "@duration": "1" },
      { "@requestId": "req-2", "@duration": "2" },
      { "@requestId": "req-3", "@duration": "3" },
    ]);
  });

  it("without stats or sort, the newest events win however many arrive (only those are kept)", () => {
    const events = Array.from({ length: 1000 }, (_, i) => event(T0 + i, `line ${i}`));
    const limited = run("fields @message | limit 3", events);
    expect(table(limited)).toEqual([{ "@message": "line 999" }, { "@message": "line 998" }, { "@message": "line 997" }]);
    expect(limited.recordsMatched).toBe(1000);
    const capped = run("filter @message like /line 1/", events, 5);
    expect(capped.rows.map((r) => r.find((f) => f.field === "@message")?.value)).toEqual(["line 199", "line 198", "line 197", "line 196", "line 195"]);
    expect(capped.recordsMatched).toBe(111);
  });

  it("StartQuery's limit caps the rows", () => {
    expect(run("fields @message", invocations(), 7).rows).toHaveLength(7);
  });
});

describe("Insights: unsupported or malformed queries name the problem", () => {
  it.each([
    ["dedup @requestId", "Unsupported command: dedup"],
    ["fields @message | pattern @message", "Unsupported command: pattern"],
    ["stats stddev(@duration)", "Unsupported stats function: stddev"],
    ["fields datefloor(@timestamp, 1h)", "Unsupported function: datefloor"],
    ["frobnicate", "Unknown command: frobnicate"],
    ["stats count(*) by bin(5y)", "Unsupported time unit 'y'"],
    ["filter @message like 'x", "Unterminated string"],
    ["limit 0", "limit needs a whole number"],
    ["stats count(*) | stats count(*)", "more than one stats"],
    ["parse @message 'a=*' as x, y", "has 1 '*' but 2 names"],
    ["parse @message /no groups/", "named groups"],
    ["", "The query is empty"],
    ["fields @message |", "Empty command"],
    ["filter (@duration > 1", "Expected ')'"],
  ])("%s", (query, message) => {
    expect(() => parseQuery(query)).toThrow(MalformedQueryError);
    expect(() => parseQuery(query)).toThrow(message);
  });
});
