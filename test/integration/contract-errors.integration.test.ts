import { beforeAll, describe, expect, it } from "vitest";
import { makeZipBase64 } from "../fixtures/zips";
import { AwsRecording, asBotocore } from "../helpers/aws-recording";
import { contractFunction, createWithTwoVersions, directFunction, NODE_FOR_PYTHON } from "../helpers/contract";
import type { TenantKey } from "../helpers/platform";
import { fn, newTenant, signed, waitUntilSettled } from "../helpers/platform";

/**
 * Contract: the control plane's refusals (bad roles, runtimes, architectures and zips; wrong
 * RevisionId / CodeSha256 on PublishVersion; alias routing configurations; concurrency on a
 * qualified ARN; missing aliases; an update while one is in progress), compared in full with
 * AWS's recordings (test/helpers/aws-recording.ts): LocalStack's test_lambda_api.snapshot.json,
 * the test named above each case, replayed with the same inputs.
 */

const FUNCTIONS = "/2015-03-31/functions";

describe("contract: control-plane errors", () => {
  let key: TenantKey;
  beforeAll(async () => {
    key = await newTenant("full", "contract-errors");
  });

  // test_lambda_api.snapshot.json › TestLambdaFunction::test_create_lambda_exceptions (every key but
  // empty_architectures, which botocore refuses before sending).
  it("CreateFunction: bad role, runtime, architectures, zip", async () => {
    const aws = new AwsRecording("TestLambdaFunction::test_create_lambda_exceptions", key.accountId);
    const name = `invalid-function-${Date.now().toString(36)}`;
    const create = (extra: Record<string, unknown>) => signed(key, "POST", FUNCTIONS, directFunction(key, name, extra));
    await aws.matchResponse("invalid_role_arn_exc", await create({ Role: "r1" }));
    await aws.matchResponse("invalid_runtime_exc", await create({ Runtime: "non-existent-runtime" }));
    await aws.matchResponse("uppercase_runtime_exc", await create({ Runtime: "PYTHON3.9" }));
    await aws.matchResponse("multiple_architectures", await create({ Architectures: ["x86_64", "arm64"] }));
    await aws.matchResponse("uppercase_architecture", await create({ Architectures: ["X86_64"] }));
    await aws.matchResponse("invalid_zip_exc", await create({ Code: { ZipFile: btoa("this is not a zipfile, just a random string") } }));
    expect((await signed(key, "GET", fn(name))).status).toBe(404);
  });

  // test_lambda_api.snapshot.json › TestLambdaFunction::test_update_lambda_exceptions (all three keys).
  it("UpdateFunctionConfiguration: bad role and runtimes", async () => {
    const aws = new AwsRecording("TestLambdaFunction::test_update_lambda_exceptions", key.accountId);
    const name = `invalid-function-${Date.now().toString(36)}`;
    expect((await signed(key, "POST", FUNCTIONS, directFunction(key, name))).status).toBe(201);
    await waitUntilSettled(key, name);
    const update = (body: Record<string, unknown>) => signed(key, "PUT", `${fn(name)}/configuration`, body);
    await aws.matchResponse("invalid_role_arn_exc", await update({ Role: "r1" }));
    await aws.matchResponse("invalid_runtime_exc", await update({ Runtime: "non-existent-runtime" }));
    await aws.matchResponse("uppercase_runtime_exc", await update({ Runtime: "PYTHON3.9" }));
  });

  // test_lambda_api.snapshot.json › TestLambdaReservedConcurrency::test_function_concurrency_exceptions (all three keys).
  it("PutFunctionConcurrency: missing function, qualified ARN", async () => {
    const aws = new AwsRecording("TestLambdaReservedConcurrency::test_function_concurrency_exceptions", key.accountId);
    const put = (name: string, n: number) => signed(key, "PUT", `/2017-10-31/functions/${encodeURIComponent(name)}/concurrency`, { ReservedConcurrentExecutions: n });
    await aws.matchResponse("put_function_concurrency_with_function_name_doesnotexist", await put("doesnotexist", 1));
    await aws.matchResponse("put_function_concurrency_with_function_name_doesnotexist_and_invalid_concurrency", await put("doesnotexist", 0));
    const name = `lambda_func-${Date.now().toString(36)}`;
    expect((await signed(key, "POST", FUNCTIONS, contractFunction(key, name))).status).toBe(201);
    await waitUntilSettled(key, name);
    const latest = await (await signed(key, "GET", `${fn(name)}/configuration?Qualifier=$LATEST`)).json<{ FunctionArn: string }>();
    await aws.matchResponse("put_function_concurrency_with_qualified_arn", await put(latest.FunctionArn, 0));
  });

  // test_lambda_api.snapshot.json › TestLambdaVersions::test_publish_with_wrong_revisionid and
  // test_publish_with_wrong_sha256 › publish_wrong_*_exc (their other keys were recorded before
  // LoggingConfig existed and are compared in contract-versions-aliases instead).
  it("PublishVersion with a wrong RevisionId or CodeSha256", async () => {
    const name = `fn-publish-${Date.now().toString(36)}`;
    expect((await signed(key, "POST", FUNCTIONS, directFunction(key, name))).status).toBe(201);
    await waitUntilSettled(key, name);
    const revision = new AwsRecording("TestLambdaVersions::test_publish_with_wrong_revisionid", key.accountId);
    await revision.matchResponse("publish_wrong_revisionid_exc", await signed(key, "POST", `${fn(name)}/versions`, { RevisionId: "doesnotexist" }));
    const sha = new AwsRecording("TestLambdaVersions::test_publish_with_wrong_sha256", key.accountId);
    const current = await (await signed(key, "GET", fn(name))).json<{ Configuration: { CodeSha256: string } }>();
    sha.bind("code-sha256:1", current.Configuration.CodeSha256);
    await sha.matchResponse("publish_wrong_sha256_exc", await signed(key, "POST", `${fn(name)}/versions`, { CodeSha256: "somenonexistentsha256" }));
    expect((await signed(key, "POST", `${fn(name)}/versions`, { CodeSha256: current.Configuration.CodeSha256 })).status).toBe(201);
  });

  // test_lambda_api.snapshot.json › TestLambdaAlias::test_notfound_and_invalid_routingconfigs (all sixteen keys).
  it("CreateAlias: routing configurations refused and accepted, missing versions and functions, duplicates", async () => {
    const aws = new AwsRecording("TestLambdaAlias::test_notfound_and_invalid_routingconfigs", key.accountId, NODE_FOR_PYTHON);
    const name = `alias-fn-${Date.now().toString(36)}`;
    aws.bind("function-name:1", name).bind("resource:1", "lambda-role");
    await createWithTwoVersions(key, aws, name, { Publish: true });

    const alias = (body: Record<string, unknown>, of = name) => signed(key, "POST", `${fn(of)}/aliases`, body);
    const routed = (version: string, weights: Record<string, number>, aliasName = "custom") => ({
      Name: aliasName,
      FunctionVersion: version,
      RoutingConfig: { AdditionalVersionWeights: weights },
    });
    await aws.matchResponse("routing_config_exc_toomany", await alias(routed("1", { "1": 0.8, "2": 0.2 })));
    await aws.matchResponse("routing_config_exc_toohigh", await alias(routed("1", { "2": 2 })));
    await aws.matchResponse("routing_config_exc_subzero", await alias(routed("1", { "2": -1 })));
    await aws.matchResponse("routing_config_exc_sameversion", await alias(routed("1", { "1": 0.5 })));
    await aws.matchResponse("target_version_doesnotexist", await alias(routed("10", { "2": 0.5 })));
    await aws.matchResponse("routing_config_exc_version_doesnotexist", await alias(routed("1", { "10": 0.5 })));
    await aws.matchResponse("target_version_exc_version_latest", await alias(routed("$LATEST", { "1": 0.5 })));
    await aws.matchResponse("routing_config_exc_version_latest", await alias(routed("1", { $LATEST: 0.5 })));
    await aws.matchResponse("create-alias-latest", await alias({ Name: "custom-latest", FunctionVersion: "$LATEST" }));
    await aws.matchResponse("routing_config_exc_fn_doesnotexist", await alias(routed("1", { "2": 0.5 }), `${name}-unknown`));
    await aws.matchResponse("create_alias_empty_routingconfig", await alias(routed("1", {}, "custom-empty-routingconfig")));
    await aws.matchResponse("create_alias_response", await alias(routed("1", { "2": 0.5 })));
    await aws.matchResponse("routing_config_exc_already_exist", await alias(routed("1", { "2": 0.5 })));
    await aws.matchResponse("alias_does_not_exist_esc", await signed(key, "GET", `${fn(name)}/aliases/non-existent`));
  });

  // test_lambda_api.snapshot.json › TestLambdaAlias::test_non_existent_alias_update › update_alias_response.
  it("UpdateAlias of an alias that does not exist", async () => {
    const aws = new AwsRecording("TestLambdaAlias::test_non_existent_alias_update", key.accountId, NODE_FOR_PYTHON);
    const name = `alias-fn-update-${Date.now().toString(36)}`;
    aws.bind("function-name:1", name).bind("resource:1", "lambda-role");
    await aws.matchResponse("create_response", await signed(key, "POST", FUNCTIONS, directFunction(key, name, { Environment: { Variables: { testenv: "staging" } } })));
    await waitUntilSettled(key, name);
    await aws.matchResponse("update_alias_response", await signed(key, "PUT", `${fn(name)}/aliases/non-existent`, {}));
  });

  // test_lambda_api.snapshot.json › TestLambdaFunction::test_lambda_concurrent_code_updates ›
  // update-during-in-progress-update-exc: a second UpdateFunctionCode while the first is bundled.
  it("UpdateFunctionCode while an update is in progress", async () => {
    const aws = new AwsRecording("TestLambdaFunction::test_lambda_concurrent_code_updates", key.accountId);
    const name = `test-lambda-${Date.now().toString(36)}`;
    aws.bind("function-name:1", name);
    const version = (n: number) => ({ ZipFile: makeZipBase64({ "handler.js": `exports.handler = async () => "version${n}";` }) });
    expect((await signed(key, "POST", FUNCTIONS, { ...directFunction(key, name), Handler: "handler.handler", Code: version(0) })).status).toBe(201);
    await waitUntilSettled(key, name);
    expect((await signed(key, "PUT", `${fn(name)}/code`, version(1))).status).toBe(200);
    await aws.matchResponse("update-during-in-progress-update-exc", await signed(key, "PUT", `${fn(name)}/code`, version(2)));
    await waitUntilSettled(key, name);
    const settled = await asBotocore(await signed(key, "GET", `${fn(name)}/configuration`));
    expect(settled.LastUpdateStatus).toBe("Successful");
  });
});
