import { describe, expect, it } from "vitest";
import { apiRateRule } from "../../src/lambda/quotas";

describe("apiRateRule: which control-plane API a route is, and its rate", () => {
  it("counts each method and route pattern as one API, at the tenant's rate", () => {
    expect(apiRateRule("GET", "/2015-03-31/functions", 15)).toEqual({ api: "GET /2015-03-31/functions", perSecond: 15 });
    expect(apiRateRule("POST", "/2015-03-31/functions", 15)).toEqual({ api: "POST /2015-03-31/functions", perSecond: 15 });
    expect(apiRateRule("GET", "/2015-03-31/functions/:FunctionName/policy", 15)).toEqual({ api: "GET /2015-03-31/functions/:FunctionName/policy", perSecond: 15 });
    expect(apiRateRule("PUT", "/2017-10-31/functions/:FunctionName/concurrency", 40)?.perSecond).toBe(40);
  });

  it("gives GetFunction 100 a second, or the tenant's rate when that is higher", () => {
    expect(apiRateRule("GET", "/2015-03-31/functions/:FunctionName", 15)?.perSecond).toBe(100);
    expect(apiRateRule("GET", "/2015-03-31/functions/:FunctionName", 500)?.perSecond).toBe(500);
    expect(apiRateRule("DELETE", "/2015-03-31/functions/:FunctionName", 15)?.perSecond).toBe(15);
  });

  it("does not count invocations nor the durable execution APIs", () => {
    expect(apiRateRule("POST", "/2015-03-31/functions/:FunctionName/invocations", 15)).toBeNull();
    expect(apiRateRule("POST", "/2021-11-15/functions/:FunctionName/response-streaming-invocations", 15)).toBeNull();
    expect(apiRateRule("POST", "/2025-12-01/durable-executions/:arn/checkpoint", 15)).toBeNull();
    expect(apiRateRule("GET", "/2025-12-01/functions/:FunctionName/durable-executions", 15)).toBeNull();
  });
});
