// Copies the AWS recordings the contract suites compare against (test/integration/contract-*.integration.test.ts)
// out of LocalStack's AWS-validated snapshot files into test/fixtures/aws-recordings/lambda.json.
// LocalStack (Apache-2.0) records these by running its tests against real AWS (`@markers.aws.validated`);
// the files keep AWS's answers with volatile values replaced by placeholders (`<uuid:1>`, `date`, …).
//
//   node scripts/extract-aws-recordings.mjs <localstack git dir or checkout> [commit]
//
// Add a test's key to TESTS to make its recording available to `recording()` (test/helpers/aws-recording.ts).
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";

const API = "tests/aws/services/lambda_/test_lambda_api";
const INVOKE = "tests/aws/services/lambda_/test_lambda";
const TESTS = [
  `${API}.py::TestLambdaFunction::test_function_lifecycle`,
  `${API}.py::TestLambdaFunction::test_list_functions`,
  `${API}.py::TestLambdaFunction::test_ops_on_nonexisting_fn[get_function]`,
  `${API}.py::TestLambdaFunction::test_ops_on_nonexisting_fn[get_function_configuration]`,
  `${API}.py::TestLambdaFunction::test_ops_on_nonexisting_fn[delete_function]`,
  `${API}.py::TestLambdaFunction::test_ops_on_nonexisting_fn[get_function_concurrency]`,
  `${API}.py::TestLambdaFunction::test_ops_on_nonexisting_fn[get_function_event_invoke_config]`,
  `${API}.py::TestLambdaFunction::test_ops_on_nonexisting_version[get_function]`,
  `${API}.py::TestLambdaFunction::test_ops_on_nonexisting_version[get_function_configuration]`,
  `${API}.py::TestLambdaFunction::test_delete_on_nonexisting_version`,
  `${API}.py::TestLambdaAccountSettings::test_account_settings`,
  `${API}.py::TestLambdaFunction::test_create_lambda_exceptions`,
  `${API}.py::TestLambdaFunction::test_update_lambda_exceptions`,
  `${API}.py::TestLambdaFunction::test_lambda_concurrent_code_updates`,
  `${API}.py::TestLambdaFunction::test_lambda_concurrent_config_updates`,
  `${API}.py::TestLambdaReservedConcurrency::test_function_concurrency_exceptions`,
  `${API}.py::TestLambdaVersions::test_publish_with_wrong_revisionid`,
  `${API}.py::TestLambdaVersions::test_publish_with_wrong_sha256`,
  `${API}.py::TestLambdaAlias::test_non_existent_alias_update`,
  `${API}.py::TestLambdaAlias::test_notfound_and_invalid_routingconfigs`,
  `${API}.py::TestLambdaVersions::test_version_lifecycle`,
  `${API}.py::TestLambdaAlias::test_alias_lifecycle`,
  `${API}.py::TestLambdaAlias::test_non_existent_alias_deletion`,
  `${API}.py::TestLambdaReservedConcurrency::test_function_concurrency`,
  `${API}.py::TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_lifecycle`,
  `${API}.py::TestLambdaTag::test_tag_lifecycle[lambda_function]`,
  `${API}.py::TestLambdaPermissions::test_add_lambda_permission_aws`,
  `${API}.py::TestLambdaPermissions::test_remove_multi_permissions`,
  `${API}.py::TestLambdaLayer::test_layer_lifecycle`,
  `${API}.py::TestLambdaLayer::test_layer_policy_lifecycle`,
  `${INVOKE}.py::TestLambdaFeatures::test_invocation_type_request_response[nodejs16.x]`,
  `${INVOKE}.py::TestLambdaFeatures::test_invocation_type_event[nodejs16.x]`,
  `${INVOKE}.py::TestLambdaFeatures::test_invocation_type_dry_run[nodejs16.x]`,
  `${INVOKE}.py::TestLambdaFeatures::test_invocation_with_logs[nodejs16.x]`,
  `${INVOKE}.py::TestLambdaFeatures::test_invocation_type_no_return_payload[nodejs-RequestResponse]`,
  `${INVOKE}.py::TestLambdaFeatures::test_invoke_exceptions`,
  `${INVOKE}.py::TestLambdaErrors::test_lambda_handler_error`,
  `${INVOKE}.py::TestLambdaErrors::test_lambda_runtime_exit`,
];
/** Every parametrisation of these tests. */
const TEST_FAMILIES = [`${API}.py::TestLambdaFunction::test_function_name_and_qualifier_validation[`];

const [source, commitArg] = process.argv.slice(2);
if (!source) throw new Error("usage: node scripts/extract-aws-recordings.mjs <localstack git dir or checkout> [commit]");
const git = (...args) => execFileSync("git", ["-C", source, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
const commit = git("rev-parse", commitArg ?? "HEAD").trim();
const files = new Map();
const snapshotOf = (test) => {
  const file = `${test.slice(0, test.indexOf(".py::"))}.snapshot.json`;
  if (!files.has(file)) files.set(file, JSON.parse(git("show", `${commit}:${file}`)));
  return files.get(file);
};
for (const family of TEST_FAMILIES) TESTS.push(...Object.keys(snapshotOf(family)).filter((k) => k.startsWith(family)).sort());
const recordings = {};
for (const test of TESTS) {
  const entry = snapshotOf(test)[test];
  if (!entry) throw new Error(`no recording ${test}`);
  recordings[test] = { recordedDate: entry["recorded-date"], content: entry["recorded-content"] };
}
const out = {
  source: { repository: "https://github.com/localstack/localstack", commit, files: [...files.keys()], license: "Apache-2.0" },
  recordings,
};
writeFileSync(new URL("../test/fixtures/aws-recordings/lambda.json", import.meta.url), `${JSON.stringify(out, null, 1)}\n`);
console.log(`${TESTS.length} recordings from ${commit}`);
