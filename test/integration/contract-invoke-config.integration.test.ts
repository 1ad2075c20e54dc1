import { beforeAll, describe, expect, it } from "vitest";
import { AwsRecording, asBotocore } from "../helpers/aws-recording";
import { contractFunction, NODE_FOR_PYTHON } from "../helpers/contract";
import type { TenantKey } from "../helpers/platform";
import { fn, newTenant, signed, waitUntilSettled } from "../helpers/platform";

/**
 * Contract: Invoke (RequestResponse, Event, DryRun, Tail logs, function errors, not found),
 * Put/Get/DeleteFunctionConcurrency and the FunctionEventInvokeConfig operations, compared in
 * full with AWS's recordings (test/helpers/aws-recording.ts): LocalStack's test_lambda.snapshot.json
 * (TestLambdaFeatures, TestLambdaErrors) and test_lambda_api.snapshot.json
 * (TestLambdaReservedConcurrency, TestLambdaEventInvokeConfig). Invoke's answer is read as botocore
 * reads it: StatusCode from the status line, ExecutedVersion / FunctionError / LogResult from the
 * X-Amz-Executed-Version / X-Amz-Function-Error / X-Amz-Log-Result headers, so a header sent where
 * AWS sends none fails the comparison as a missing one does.
 */

const FUNCTIONS = "/2015-03-31/functions";
/** LocalStack's Node.js echo handler (lambda_echo.js): logs the event, returns it. */
const ECHO_LOGGING = "exports.handler = async (event) => { console.log(JSON.stringify(event)); return event; };";

describe("contract: invoke, concurrency, event invoke config", () => {
  let key: TenantKey;
  let echo: string;
  const invoke = (name: string, headers: Record<string, string> = {}, payload = "{}") =>
    signed(key, "POST", `${fn(name)}/invocations`, payload, headers);

  beforeAll(async () => {
    key = await newTenant("full", "contract-invoke");
    echo = `echo-func-${Date.now().toString(36)}`;
    expect((await signed(key, "POST", FUNCTIONS, contractFunction(key, echo, {}, ECHO_LOGGING))).status).toBe(201);
    await waitUntilSettled(key, echo);
  });

  // test_lambda.snapshot.json › TestLambdaFeatures::test_invocation_type_request_response[nodejs16.x],
  // test_invocation_type_event[nodejs16.x], test_invocation_type_dry_run[nodejs16.x] › invoke-result.
  it("RequestResponse, Event and DryRun", async () => {
    for (const [type, status] of [["request_response", "RequestResponse"], ["event", "Event"], ["dry_run", "DryRun"]] as const) {
      const aws = new AwsRecording(`TestLambdaFeatures::test_invocation_type_${type}[nodejs16.x]`, key.accountId);
      await aws.matchResponse("invoke-result", await invoke(echo, { "X-Amz-Invocation-Type": status }), "Invoke");
    }
  });

  // test_lambda.snapshot.json › TestLambdaFeatures::test_invocation_with_logs[nodejs16.x] › invoke, logs.
  it("LogType Tail: the log's START, the handler's line, END and REPORT", async () => {
    const aws = new AwsRecording("TestLambdaFeatures::test_invocation_with_logs[nodejs16.x]", key.accountId);
    const answer = await aws.matchResponse("invoke", await invoke(echo, { "X-Amz-Log-Type": "Tail" }), "Invoke");
    const lines = atob(String(answer.LogResult)).split(/(?<=\n)/);
    const [start, info, end, report] = aws.expected("logs.logs") as string[];
    const requestId = /^START RequestId: ([0-9a-f-]{36}) /.exec(lines[0] ?? "")?.[1] ?? "<none>";
    const recorded = (line = "") => line.replaceAll("<request-id>", requestId);
    expect(lines[0]).toBe(recorded(start));
    expect(lines[1]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\t${requestId}\\tINFO\\t\\{\\}\\n$`));
    expect(recorded(info).replace(/^date/, "")).toBe(lines[1]?.replace(/^\S+/, ""));
    expect(lines[2]).toBe(recorded(end));
    // Deliberate: no "Max Memory Used" (README, "Execution environment"); the fields before it as AWS writes them.
    const reportPrefix = recorded(report).split("\tMax Memory Used")[0]?.replaceAll("<duration>", "DURATION") ?? "";
    expect(lines[3]?.replace(/Duration: [\d.]+ ms/g, "Duration: DURATION ms")).toMatch(new RegExp(`^${reportPrefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  });

  // test_lambda.snapshot.json › TestLambdaFeatures::test_invocation_type_no_return_payload[nodejs-RequestResponse].
  it("a handler that returns nothing answers the text null", async () => {
    const aws = new AwsRecording("TestLambdaFeatures::test_invocation_type_no_return_payload[nodejs-RequestResponse]", key.accountId);
    const name = `test-function-${Date.now().toString(36)}`;
    expect((await signed(key, "POST", FUNCTIONS, contractFunction(key, name, {}, "exports.handler = async () => {};"))).status).toBe(201);
    await waitUntilSettled(key, name);
    await aws.matchResponse("invoke-result", await invoke(name, { "X-Amz-Invocation-Type": "RequestResponse" }), "Invoke");
  });

  // test_lambda.snapshot.json › TestLambdaFeatures::test_invoke_exceptions › invoke_function_doesnotexist.
  it("invoking a function that does not exist", async () => {
    const aws = new AwsRecording("TestLambdaFeatures::test_invoke_exceptions", key.accountId);
    await aws.matchResponse("invoke_function_doesnotexist", await invoke("doesnotexist"), "Invoke");
  });

  // test_lambda.snapshot.json › TestLambdaErrors::test_lambda_handler_error and test_lambda_runtime_exit › invocation_error.
  it("function errors: a handler that throws, a module that exits at load", async () => {
    const thrower = `test-function-throws-${Date.now().toString(36)}`;
    const thrown = "exports.handler = async () => { throw new Error('Handler fails'); };";
    expect((await signed(key, "POST", FUNCTIONS, contractFunction(key, thrower, {}, thrown))).status).toBe(201);
    await waitUntilSettled(key, thrower);
    const failed = await asBotocore(await invoke(thrower, {}, ""), "Invoke");
    // The payload is the runtime's own error object: Python's (recorded) has stackTrace, Node's has trace.
    const handlerError = new AwsRecording("TestLambdaErrors::test_lambda_handler_error", key.accountId);
    const { Payload: recordedPayload, ...recordedRest } = handlerError.expected("invocation_error") as Record<string, unknown>;
    const { Payload: payload, ...rest } = failed;
    expect(rest).toStrictEqual(recordedRest);
    expect(Object.keys(recordedPayload as object).sort()).toEqual(["errorMessage", "errorType", "requestId", "stackTrace"]);
    expect(payload).toStrictEqual({ errorType: "Error", errorMessage: "Handler fails", trace: expect.arrayContaining([expect.stringMatching(/^Error: Handler fails/)]) });

    const exiter = `test-function-exit-${Date.now().toString(36)}`;
    expect((await signed(key, "POST", FUNCTIONS, contractFunction(key, exiter, {}, "process.exit(0); exports.handler = async () => 'never';"))).status).toBe(201);
    await waitUntilSettled(key, exiter);
    const exitRecording = new AwsRecording("TestLambdaErrors::test_lambda_runtime_exit", key.accountId);
    await exitRecording.matchResponse("invocation_error", await invoke(exiter, {}, ""), "Invoke");
  });

  // test_lambda_api.snapshot.json › TestLambdaReservedConcurrency::test_function_concurrency (all five keys).
  it("Put/Get/DeleteFunctionConcurrency", async () => {
    const aws = new AwsRecording("TestLambdaReservedConcurrency::test_function_concurrency", key.accountId);
    const path = `/2017-10-31/functions/${echo}/concurrency`;
    await aws.matchResponse("put_function_concurrency_with_reserved_0", await signed(key, "PUT", path, { ReservedConcurrentExecutions: 0 }));
    await aws.matchResponse("put_function_concurrency_with_reserved_1", await signed(key, "PUT", path, { ReservedConcurrentExecutions: 1 }));
    await aws.matchResponse("get_function_concurrency", await signed(key, "GET", `/2019-09-30/functions/${echo}/concurrency`));
    await aws.matchResponse("delete_response", await signed(key, "DELETE", path));
    await aws.matchResponse("get_function_concurrency_after_delete", await signed(key, "GET", `/2019-09-30/functions/${echo}/concurrency`));
  });

  // test_lambda_api.snapshot.json › TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_lifecycle (all thirteen keys).
  it("Put/Update/Get/List/DeleteFunctionEventInvokeConfig", async () => {
    const aws = new AwsRecording("TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_lifecycle", key.accountId, NODE_FOR_PYTHON);
    const name = `fn-eventinvoke-${Date.now().toString(36)}`;
    aws.bind("function-name:1", name).bind("resource:2", "lambda-role");
    expect((await signed(key, "POST", FUNCTIONS, contractFunction(key, name))).status).toBe(201);
    await waitUntilSettled(key, name);
    const config = (qualifier?: string) => `/2019-09-25/functions/${name}/event-invoke-config${qualifier ? `?Qualifier=${qualifier}` : ""}`;

    await aws.matchResponse("put_invokeconfig_retries_0", await signed(key, "PUT", config(), { MaximumRetryAttempts: 0 }));
    await aws.matchResponse("put_invokeconfig_eventage_60", await signed(key, "PUT", config(), { MaximumEventAgeInSeconds: 60 }));
    await aws.matchResponse("update_invokeconfig_eventage_nochange", await signed(key, "POST", config(), { MaximumEventAgeInSeconds: 60 }));
    await aws.matchResponse("update_invokeconfig_retries", await signed(key, "POST", config(), { MaximumRetryAttempts: 1 }));
    await aws.matchResponse("get_invokeconfig", await signed(key, "GET", config()));
    await aws.matchResponse("get_invokeconfig_latest", await signed(key, "GET", config("$LATEST")));
    await aws.matchResponse("list_single_invokeconfig", await signed(key, "GET", `/2019-09-25/functions/${name}/event-invoke-config/list`));

    const published = await aws.matchResponse("publish_version_result", await signed(key, "POST", `${fn(name)}/versions`, {}));
    const version = String(published.Version);
    await aws.matchResponse("get_invokeconfig_postpublish", await signed(key, "GET", config(version)));
    await aws.matchResponse("put_published_invokeconfig", await signed(key, "PUT", config(version), { MaximumEventAgeInSeconds: 120 }));
    await aws.matchResponse("get_published_invokeconfig", await signed(key, "GET", config(version)));

    const list = `/2019-09-25/functions/${name}/event-invoke-config/list`;
    const first = await asBotocore(await signed(key, "GET", `${list}?MaxItems=1`));
    expect(first.FunctionEventInvokeConfigs).toHaveLength(1);
    const rest = await asBotocore(await signed(key, "GET", `${list}?MaxItems=1&Marker=${encodeURIComponent(String(first.NextMarker))}`));
    expect(rest.FunctionEventInvokeConfigs).toHaveLength(1);
    expect(rest).not.toHaveProperty("NextMarker");
    expect((await signed(key, "DELETE", config())).status).toBe(204);
    await aws.matchResponse("list_paging_nolimit_postdelete", await signed(key, "GET", list));
  });
});
