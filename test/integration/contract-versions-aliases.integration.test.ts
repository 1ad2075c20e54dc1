import { beforeAll, describe, expect, it } from "vitest";
import { AwsRecording, asBotocore } from "../helpers/aws-recording";
import { createWithTwoVersions, directFunction, NODE_FOR_PYTHON, pageAll } from "../helpers/contract";
import type { TenantKey } from "../helpers/platform";
import { fn, newTenant, signed, waitUntilSettled } from "../helpers/platform";

/**
 * Contract: PublishVersion, ListVersionsByFunction, GetFunction / GetFunctionConfiguration of a
 * version or alias, Create/Get/Update/Delete/ListAliases, compared in full with AWS's recordings
 * (test/helpers/aws-recording.ts): LocalStack's test_lambda_api.snapshot.json, TestLambdaVersions
 * and TestLambdaAlias, replayed call for call with the same inputs (Python runtimes aside).
 */

const FUNCTIONS = "/2015-03-31/functions";
const byName = (a: { Name?: unknown }, b: { Name?: unknown }) => String(a.Name).localeCompare(String(b.Name));

describe("contract: versions and aliases", () => {
  let key: TenantKey;
  beforeAll(async () => {
    key = await newTenant("full", "contract-versions");
  });

  // test_lambda_api.snapshot.json › TestLambdaVersions::test_version_lifecycle (all fourteen keys).
  it("publish after each change, publish with nothing changed, list, delete a version", async () => {
    const aws = new AwsRecording("TestLambdaVersions::test_version_lifecycle", key.accountId, NODE_FOR_PYTHON);
    const name = `fn-versions-${Date.now().toString(36)}`;
    aws.bind("function-name:1", name).bind("resource:1", "lambda-role");
    const configuration = `${fn(name)}/configuration`;

    await aws.matchResponse("create_response", await signed(key, "POST", FUNCTIONS, directFunction(key, name, { Description: "No version :(" })));
    await waitUntilSettled(key, name);
    await aws.matchResponse("get_function_result", await signed(key, "GET", fn(name)));
    await aws.matchResponse("list_versions_result", await signed(key, "GET", `${fn(name)}/versions`));

    await aws.matchResponse("first_update_response", await signed(key, "PUT", configuration, { Description: "First version :)" }));
    await waitUntilSettled(key, name);
    await aws.matchResponse("first_update_get_function", await signed(key, "GET", fn(name)));

    const published = await aws.matchResponse(
      "first_publish_response",
      await signed(key, "POST", `${fn(name)}/versions`, { Description: "First version description :)" }),
    );
    const version = String(published.Version);
    await waitUntilSettled(key, name, version);
    await aws.matchResponse("first_publish_get_function", await signed(key, "GET", `${fn(name)}?Qualifier=${version}`));
    await aws.matchResponse("first_publish_get_function_config", await signed(key, "GET", `${configuration}?Qualifier=${version}`));

    await aws.matchResponse("second_update_response", await signed(key, "PUT", configuration, { Description: "Second version :))" }));
    await waitUntilSettled(key, name);
    await aws.matchResponse("first_publish_get_function_after_update", await signed(key, "GET", `${fn(name)}?Qualifier=${version}`));

    await aws.matchResponse("second_publish_response", await signed(key, "POST", `${fn(name)}/versions`, {}));
    await aws.matchResponse(
      "third_publish_response",
      await signed(key, "POST", `${fn(name)}/versions`, { Description: "Third version description :)))" }),
    );
    await aws.matchResponse("list_versions_result_after_third_publish", await signed(key, "GET", `${fn(name)}/versions`));

    expect((await signed(key, "DELETE", fn(`${name}:${version}`))).status).toBe(204);
    await aws.matchResponse("list_versions_result_after_deletion_of_first_version", await signed(key, "GET", `${fn(name)}/versions`));
  });

  // test_lambda_api.snapshot.json › TestLambdaAlias::test_alias_lifecycle (all 25 keys; LocalStack sorts `Aliases` by Name).
  it("aliases: create with and without routing, get, get the function through them, list, update, delete", async () => {
    const aws = new AwsRecording("TestLambdaAlias::test_alias_lifecycle", key.accountId, NODE_FOR_PYTHON);
    const name = `alias-fn-${Date.now().toString(36)}`;
    aws.bind("function-name:1", name).bind("resource:1", "lambda-role");
    const aliases = `${fn(name)}/aliases`;
    const listed = async (path: string, query = "") => {
      const answer = await asBotocore(await signed(key, "GET", `${aliases}${query}`));
      aws.match(path, { ...answer, Aliases: (answer.Aliases as { Name?: unknown }[]).sort(byName) });
    };

    await createWithTwoVersions(key, aws, name);

    const alias11 = await aws.matchResponse(
      "create_alias_1_1",
      await signed(key, "POST", aliases, {
        Name: "aliasname1_1",
        FunctionVersion: "1",
        Description: "custom-alias",
        RoutingConfig: { AdditionalVersionWeights: { "2": 0.2 } },
      }),
    );
    await aws.matchResponse("get_alias_1_1", await signed(key, "GET", `${aliases}/aliasname1_1`));
    await aws.matchResponse("get_function_alias_1_1", await signed(key, "GET", `${fn(name)}?Qualifier=aliasname1_1`));
    await aws.matchResponse("get_function_byarn_alias_1_1", await signed(key, "GET", fn(String(alias11.AliasArn))));
    await aws.matchResponse("get_function_alias_notfound_exc", await signed(key, "GET", `${fn(name)}?Qualifier=aliasdoesnotexist`));
    const missingArn = String(alias11.AliasArn).replace("aliasname1_1", "aliasdoesnotexist");
    await aws.matchResponse("get_function_alias_byarn_notfound_exc", await signed(key, "GET", fn(missingArn)));

    const alias12 = { Name: "aliasname1_2", FunctionVersion: "1", Description: "custom-alias" };
    await aws.matchResponse("create_alias_1_2", await signed(key, "POST", aliases, alias12));
    await aws.matchResponse("get_alias_1_2", await signed(key, "GET", `${aliases}/aliasname1_2`));
    await aws.matchResponse("create_alias_1_3", await signed(key, "POST", aliases, { Name: "aliasname1_3", FunctionVersion: "1" }));
    await aws.matchResponse("get_alias_1_3", await signed(key, "GET", `${aliases}/aliasname1_3`));
    const alias2 = { Name: "aliasname2", FunctionVersion: "2", Description: "custom-alias" };
    await aws.matchResponse("create_alias_2", await signed(key, "POST", aliases, alias2));
    await aws.matchResponse("get_alias_2", await signed(key, "GET", `${aliases}/aliasname2`));

    aws.match("list_aliases_for_fnname", { Aliases: (await pageAll(key, aliases, "Aliases")).sort(byName) });
    const unrouted = { RoutingConfig: { AdditionalVersionWeights: {} } };
    await aws.matchResponse("update_alias_1_1", await signed(key, "PUT", `${aliases}/aliasname1_1`, unrouted));
    await aws.matchResponse("get_alias_1_1_after_update", await signed(key, "GET", `${aliases}/aliasname1_1`));
    await listed("list_aliases_for_fnname_after_update");
    await aws.matchResponse("update_alias_1_2", await signed(key, "PUT", `${aliases}/aliasname1_2`, {}));
    await aws.matchResponse("get_alias_1_2_after_update", await signed(key, "GET", `${aliases}/aliasname1_2`));
    await listed("list_aliases_for_fnname_after_update_2");
    await listed("list_aliases_for_version", "?FunctionVersion=1");

    await aws.matchResponse("delete_alias_response", await signed(key, "DELETE", `${aliases}/aliasname1_1`));
    await listed("list_aliases_for_fnname_afterdelete");
  });

  // test_lambda_api.snapshot.json › TestLambdaAlias::test_non_existent_alias_deletion: 204, no error.
  it("deleting an alias that does not exist", async () => {
    const aws = new AwsRecording("TestLambdaAlias::test_non_existent_alias_deletion", key.accountId, NODE_FOR_PYTHON);
    const name = `alias-fn-missing-${Date.now().toString(36)}`;
    aws.bind("function-name:1", name).bind("resource:1", "lambda-role");
    const created = await signed(key, "POST", FUNCTIONS, directFunction(key, name, { Environment: { Variables: { testenv: "staging" } } }));
    await aws.matchResponse("create_response", created);
    await waitUntilSettled(key, name);
    await aws.matchResponse("delete_alias_response", await signed(key, "DELETE", `${fn(name)}/aliases/non-existent`));
  });
});
