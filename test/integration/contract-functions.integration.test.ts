import { beforeAll, describe, expect, it } from "vitest";
import { AwsRecording, asBotocore } from "../helpers/aws-recording";
import type { TenantKey } from "../helpers/platform";
import { fn, newTenant, signed, waitUntilSettled } from "../helpers/platform";
import { contractFunction, NODE_FOR_PYTHON, pageAll } from "../helpers/contract";

/**
 * Contract: CreateFunction, GetFunction, GetFunctionConfiguration, UpdateFunctionConfiguration,
 * UpdateFunctionCode, DeleteFunction, ListFunctions, GetAccountSettings and their not-found
 * answers, compared in full with AWS's recordings (test/helpers/aws-recording.ts). Each test
 * names the recorded LocalStack test it replays (tests/aws/services/lambda_/test_lambda_api.py
 * and its .snapshot.json, commit in test/fixtures/aws-recordings/lambda.json) and makes the same
 * calls with the same inputs, Python runtimes aside (NODE_FOR_PYTHON).
 */

const FUNCTIONS = "/2015-03-31/functions";

describe("contract: functions", () => {
  let key: TenantKey;
  beforeAll(async () => {
    key = await newTenant("full", "contract-fn");
  });

  // test_lambda_api.snapshot.json › TestLambdaFunction::test_function_lifecycle (all seven keys).
  it("create, get, update configuration, update code, delete, delete again", async () => {
    const aws = new AwsRecording("TestLambdaFunction::test_function_lifecycle", key.accountId, NODE_FOR_PYTHON);
    const name = `fn-lifecycle-${Date.now().toString(36)}`;
    aws.bind("function-name:1", name).bind("resource:1", "lambda-role");

    const created = await signed(key, "POST", FUNCTIONS, contractFunction(key, name, { MemorySize: 256, Timeout: 5 }));
    await aws.matchResponse("create_response.CreateFunctionResponse", created);
    await waitUntilSettled(key, name);
    await aws.matchResponse("get_function_response", await signed(key, "GET", fn(name)));

    const configUpdate = {
      Runtime: "nodejs20.x",
      Description: "Changed-Description",
      MemorySize: 512,
      Timeout: 10,
      Environment: { Variables: { ENV_A: "a" } },
    };
    await aws.matchResponse("update_func_conf_response", await signed(key, "PUT", `${fn(name)}/configuration`, configUpdate));
    await waitUntilSettled(key, name);
    await aws.matchResponse("get_function_response_postupdate", await signed(key, "GET", fn(name)));

    const code = contractFunction(key, name, {}, "exports.handler = async () => ({ version: 2 });").Code;
    await aws.matchResponse("update_code_response", await signed(key, "PUT", `${fn(name)}/code`, code));
    await waitUntilSettled(key, name);
    await aws.matchResponse("get_function_response_postcodeupdate", await signed(key, "GET", fn(name)));

    await aws.matchResponse("delete_response", await signed(key, "DELETE", fn(name)), "DeleteFunction");
    await aws.matchResponse("delete_postdelete", await signed(key, "DELETE", fn(name)), "DeleteFunction");
  });

  // test_lambda_api.snapshot.json › TestLambdaFunction::test_ops_on_nonexisting_fn[<operation>] › not_found_exception.
  it("operations on a function that does not exist", async () => {
    const name = `i-dont-exist-${Date.now().toString(36)}`;
    const calls: [string, string, string][] = [
      ["get_function", "GET", fn(name)],
      ["get_function_configuration", "GET", `${fn(name)}/configuration`],
      ["delete_function", "DELETE", fn(name)],
      ["get_function_concurrency", "GET", `/2019-09-30/functions/${name}/concurrency`],
      ["get_function_event_invoke_config", "GET", `/2019-09-25/functions/${name}/event-invoke-config`],
    ];
    for (const [operation, method, path] of calls) {
      const aws = new AwsRecording(`TestLambdaFunction::test_ops_on_nonexisting_fn[${operation}]`, key.accountId);
      await aws.bind("nonexisting-fn-name", name).matchResponse("not_found_exception", await signed(key, method, path));
    }
  });

  // test_lambda_api.snapshot.json › TestLambdaFunction::test_ops_on_nonexisting_version[...] and
  // test_delete_on_nonexisting_version (deleting a missing version twice is answered 204, as recorded there).
  it("versions that do not exist, and deleting a missing version", async () => {
    const name = `i-exist-${Date.now().toString(36)}`;
    expect((await signed(key, "POST", FUNCTIONS, contractFunction(key, name, { Description: "Initial description" }))).status).toBe(201);
    await waitUntilSettled(key, name);
    for (const [operation, path] of [
      ["get_function", `${fn(name)}?Qualifier=1221`],
      ["get_function_configuration", `${fn(name)}/configuration?Qualifier=1221`],
    ] as const) {
      const aws = new AwsRecording(`TestLambdaFunction::test_ops_on_nonexisting_version[${operation}]`, key.accountId);
      await aws.bind("fn-name", name).matchResponse("version_not_found_exception", await signed(key, "GET", path));
    }
    const aws = new AwsRecording("TestLambdaFunction::test_delete_on_nonexisting_version", key.accountId).bind("fn-name", name);
    for (let i = 0; i < 2; i++) {
      const res = await signed(key, "DELETE", `${fn(name)}?Qualifier=1233`);
      expect(await asBotocore(res, "DeleteFunction")).toEqual({ StatusCode: 204, ResponseMetadata: { HTTPHeaders: {}, HTTPStatusCode: 204 } });
    }
    expect((await signed(key, "DELETE", fn(name))).status).toBe(204);
    await aws.matchResponse("delete_function_response_non_existent", await signed(key, "DELETE", fn(name)), "DeleteFunction");
    await aws.matchResponse(
      "delete_function_response_non_existent_with_qualifier",
      await signed(key, "DELETE", `${fn(name)}?Qualifier=1233`),
      "DeleteFunction",
    );
  });

  // test_lambda_api.snapshot.json › TestLambdaFunction::test_list_functions (a fresh tenant holds only these two functions).
  it("ListFunctions, with and without FunctionVersion=ALL, one item a page", async () => {
    const lister = await newTenant("full", "contract-list");
    const aws = new AwsRecording("TestLambdaFunction::test_list_functions", lister.accountId, NODE_FOR_PYTHON);
    const suffix = Date.now().toString(36);
    const [first, second] = [`list-fn-1-${suffix}`, `list-fn-2-${suffix}`];
    aws.bind("function-name:1", first).bind("function-name:2", second).bind("resource:1", "lambda-role");

    await aws.matchResponse("create_response_1.CreateFunctionResponse", await signed(lister, "POST", FUNCTIONS, contractFunction(lister, first, { Publish: true })));
    // The recorded functions were two zips of the same handler with different bytes (two CodeSha256s).
    const secondBody = contractFunction(lister, second, {}, "exports.handler = async (event) => event; // second");
    await aws.matchResponse("create_response_2.CreateFunctionResponse", await signed(lister, "POST", FUNCTIONS, secondBody));
    await waitUntilSettled(lister, first);
    await waitUntilSettled(lister, second);

    await aws.matchResponse("list_functions_invalid_functionversion", await signed(lister, "GET", `${FUNCTIONS}/?FunctionVersion=invalid`));
    const byArn = (a: { FunctionArn?: unknown }, b: { FunctionArn?: unknown }) => String(a.FunctionArn).localeCompare(String(b.FunctionArn));
    const all = await pageAll(lister, `${FUNCTIONS}/?FunctionVersion=ALL`, "Functions");
    aws.match("list_all", { Functions: all.sort(byArn) });
    const latest = await pageAll(lister, `${FUNCTIONS}/`, "Functions");
    aws.match("list_default", { Functions: latest.sort(byArn) });
  });

  // test_lambda_api.snapshot.json › TestLambdaAccountSettings::test_account_settings (the recording keeps the keys only).
  it("GetAccountSettings", async () => {
    const aws = new AwsRecording("TestLambdaAccountSettings::test_account_settings", key.accountId);
    const settings = await asBotocore(await signed(key, "GET", "/2016-08-19/account-settings/"));
    const keys = (value: unknown) => Object.keys(value as object).sort();
    aws.match("acc_settings_modded", { ...settings, AccountLimit: keys(settings.AccountLimit), AccountUsage: keys(settings.AccountUsage) });
    for (const value of [...Object.values(settings.AccountLimit as object), ...Object.values(settings.AccountUsage as object)]) {
      expect(Number.isInteger(value)).toBe(true);
    }
  });
});
