import { beforeAll, describe, expect, it } from "vitest";
import { makeZipBase64 } from "../fixtures/zips";
import { AwsRecording, asBotocore } from "../helpers/aws-recording";
import { contractFunction, NODE_FOR_PYTHON, parsedJsonMembers } from "../helpers/contract";
import type { TenantKey } from "../helpers/platform";
import { fn, newTenant, signed, waitUntilSettled } from "../helpers/platform";

/**
 * Contract: TagResource / UntagResource / ListTags, AddPermission / RemovePermission / GetPolicy,
 * PublishLayerVersion / GetLayerVersion / GetLayerVersionByArn / ListLayerVersions /
 * DeleteLayerVersion, the layer version policy operations, and `Layers` on a function, compared
 * in full with AWS's recordings (test/helpers/aws-recording.ts): LocalStack's
 * test_lambda_api.snapshot.json, TestLambdaTag, TestLambdaPermissions and TestLambdaLayer,
 * replayed call for call with the same inputs (Python runtimes aside).
 */

const FUNCTIONS = "/2015-03-31/functions";
const LAYERS = "/2018-10-31/layers";
const JSON_MEMBERS = ["Statement", "Policy"];

describe("contract: tags, policies, layers", () => {
  let key: TenantKey;
  const created = async (name: string) => {
    expect((await signed(key, "POST", FUNCTIONS, contractFunction(key, name))).status).toBe(201);
    await waitUntilSettled(key, name);
  };
  const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

  beforeAll(async () => {
    key = await newTenant("full", "contract-resources");
  });

  // test_lambda_api.snapshot.json › TestLambdaTag::test_tag_lifecycle[lambda_function] (all fourteen keys).
  it("tag, tag several, overwrite, untag one, several, missing, a mix", async () => {
    const aws = new AwsRecording("TestLambdaTag::test_tag_lifecycle[lambda_function]", key.accountId);
    const name = unique("fn-tags");
    await created(name);
    const tags = `/2017-03-31/tags/${encodeURIComponent(`arn:aws:lambda:us-east-1:${key.accountId}:function:${name}`)}`;
    const steps: [string, "POST" | "DELETE", unknown][] = [
      ["tag_single_response", "POST", { Tags: { A: "tag-a" } }],
      ["tag_multiple_response", "POST", { Tags: { B: "tag-b", C: "tag-c" } }],
      ["tag_overlap_response", "POST", { Tags: { C: "tag-c-newsuffix", D: "tag-d" } }],
      ["untag_single_response", "DELETE", ["A"]],
      ["untag_multiple_response", "DELETE", ["B", "C"]],
      ["untag_nonexisting_response", "DELETE", ["F"]],
      ["untag_existing_and_nonexisting_response", "DELETE", ["D", "F"]],
    ];
    for (const [step, method, input] of steps) {
      const res =
        method === "POST"
          ? await signed(key, "POST", tags, input)
          : await signed(key, "DELETE", `${tags}?${(input as string[]).map((k) => `tagKeys=${k}`).join("&")}`);
      await aws.matchResponse(step, res);
      await aws.matchResponse(`${step}_listtags`, await signed(key, "GET", tags));
    }
  });

  // test_lambda_api.snapshot.json › TestLambdaPermissions::test_add_lambda_permission_aws (all three keys).
  it("AddPermission with a SourceArn, then GetPolicy", async () => {
    const aws = new AwsRecording("TestLambdaPermissions::test_add_lambda_permission_aws", key.accountId, NODE_FOR_PYTHON);
    const name = unique("lambda_func");
    aws.bind("function-name:1", name).bind("resource:1", "lambda-role").bind("resource:3", "test-bucket");
    await aws.matchResponse("create_lambda.CreateFunctionResponse", await signed(key, "POST", FUNCTIONS, contractFunction(key, name)));
    await waitUntilSettled(key, name);
    const grant = { Action: "lambda:InvokeFunction", StatementId: "s3", Principal: "s3.amazonaws.com", SourceArn: "arn:aws:s3:::test-bucket" };
    aws.match("add_permission", parsedJsonMembers(await asBotocore(await signed(key, "POST", `${fn(name)}/policy`, grant)), JSON_MEMBERS));
    aws.match("get_policy", parsedJsonMembers(await asBotocore(await signed(key, "GET", `${fn(name)}/policy`)), JSON_MEMBERS));
  });

  // test_lambda_api.snapshot.json › TestLambdaPermissions::test_remove_multi_permissions (all seven keys).
  it("two statements, removing a missing one, removing both, GetPolicy of no policy", async () => {
    const aws = new AwsRecording("TestLambdaPermissions::test_remove_multi_permissions", key.accountId);
    const name = unique("lambda_func");
    aws.bind("resource:1", name).bind("resource:2", "test-bucket");
    await created(name);
    const policy = `${fn(name)}/policy`;
    const read = async (res: Response) => parsedJsonMembers(await asBotocore(res), JSON_MEMBERS);
    const s3 = { Action: "lambda:InvokeFunction", StatementId: "s3", Principal: "s3.amazonaws.com" };
    aws.match("add_permission_1", await read(await signed(key, "POST", policy, s3)));
    const sqs = { Action: "lambda:InvokeFunction", StatementId: "sqs", Principal: "sqs.amazonaws.com", SourceArn: "arn:aws:s3:::test-bucket" };
    aws.match("add_permission_2", await read(await signed(key, "POST", policy, sqs)));
    aws.match("policy_after_2_add", await read(await signed(key, "GET", policy)));
    await aws.matchResponse("remove_permission_exception_nonexisting_sid", await signed(key, "DELETE", `${policy}/non-existent`));
    expect((await signed(key, "DELETE", `${policy}/sqs`)).status).toBe(204);
    aws.match("policy_after_removal", await read(await signed(key, "GET", policy)));
    const again = await read(await signed(key, "GET", policy));
    aws.match("policy_after_removal_attempt", again);
    expect((await signed(key, "DELETE", `${policy}/s3?RevisionId=${String(again.RevisionId)}`)).status).toBe(204);
    await aws.matchResponse("get_policy_exception_removed_all", await signed(key, "GET", policy));
  });

  // test_lambda_api.snapshot.json › TestLambdaLayer::test_layer_lifecycle (all fifteen keys).
  it("layer versions: publish twice, use one, get by name and ARN, list, delete both, publish again", async () => {
    const aws = new AwsRecording("TestLambdaLayer::test_layer_lifecycle", key.accountId, NODE_FOR_PYTHON);
    const [name, layer, license, description] = [unique("fn-layer"), unique("testlayer"), unique("licenseinfo"), unique("description")];
    aws.bind("function-name:1", name).bind("resource:1", "lambda-role").bind("resource:3", layer);
    aws.bind("license-info", license).bind("description", description);
    await created(name);
    await aws.matchResponse("get_fn_result", await signed(key, "GET", fn(name)));
    await aws.matchResponse("get_fn_config_result", await signed(key, "GET", `${fn(name)}/configuration`));

    const publish = {
      CompatibleRuntimes: ["nodejs22.x"],
      LicenseInfo: license,
      Description: description,
      Content: { ZipFile: makeZipBase64({ "nodejs/node_modules/dummy/index.js": "module.exports = 1;" }) },
      CompatibleArchitectures: ["x86_64"],
    };
    const versions = `${LAYERS}/${layer}/versions`;
    const first = await aws.matchResponse("publish_result", await signed(key, "POST", versions, publish));
    await aws.matchResponse("publish_result_2", await signed(key, "POST", versions, publish));
    await aws.matchResponse("update_fn_config", await signed(key, "PUT", `${fn(name)}/configuration`, { Layers: [first.LayerVersionArn] }));
    await waitUntilSettled(key, name);
    await aws.matchResponse("get_fn_config", await signed(key, "GET", `${fn(name)}/configuration`));
    await aws.matchResponse("get_layer_ver_result", await signed(key, "GET", `${versions}/1`));
    const byArn = `${LAYERS}?find=LayerVersion&Arn=${encodeURIComponent(String(first.LayerVersionArn))}`;
    await aws.matchResponse("get_layer_by_arn_version", await signed(key, "GET", byArn));
    await aws.matchResponse("list_layer_versions_predelete", await signed(key, "GET", versions));
    await aws.matchResponse("delete_layer_1", await signed(key, "DELETE", `${versions}/1`));
    await aws.matchResponse("get_fn_config_postdelete", await signed(key, "GET", `${fn(name)}/configuration`));
    await aws.matchResponse("delete_layer_2", await signed(key, "DELETE", `${versions}/2`));
    await aws.matchResponse("list_layer_versions_postdelete", await signed(key, "GET", versions));
    await aws.matchResponse("publish_result_3", await signed(key, "POST", versions, publish));
  });

  // test_lambda_api.snapshot.json › TestLambdaLayer::test_layer_policy_lifecycle (all six keys).
  it("layer version policy: add, get, add with RevisionId, remove with RevisionId", async () => {
    const aws = new AwsRecording("TestLambdaLayer::test_layer_policy_lifecycle", key.accountId, NODE_FOR_PYTHON);
    const layer = unique("testlayer");
    aws.bind("resource:1", layer);
    const publish = {
      CompatibleRuntimes: ["nodejs22.x"],
      Content: { ZipFile: makeZipBase64({ "nodejs/node_modules/dummy/index.js": "module.exports = 1;" }) },
      CompatibleArchitectures: ["x86_64"],
    };
    await aws.matchResponse("publish_result", await signed(key, "POST", `${LAYERS}/${layer}/versions`, publish));
    const policy = `${LAYERS}/${layer}/versions/1/policy`;
    const read = async (res: Response) => parsedJsonMembers(await asBotocore(res), JSON_MEMBERS);
    const statement = (sid: string) => ({ StatementId: sid, Action: "lambda:GetLayerVersion", Principal: "*" });
    aws.match("add_policy_s1", await read(await signed(key, "POST", policy, statement("s1"))));
    const current = await read(await signed(key, "GET", policy));
    aws.match("get_layer_version_policy", current);
    aws.match("add_policy_s2", await read(await signed(key, "POST", `${policy}?RevisionId=${String(current.RevisionId)}`, statement("s2"))));
    const afterAdd = await read(await signed(key, "GET", policy));
    aws.match("get_layer_version_policy_postadd2", afterAdd);
    await aws.matchResponse("remove_s2", await signed(key, "DELETE", `${policy}/s2?RevisionId=${String(afterAdd.RevisionId)}`));
    aws.match("get_layer_version_policy_postdeletes2", await read(await signed(key, "GET", policy)));
  });
});
