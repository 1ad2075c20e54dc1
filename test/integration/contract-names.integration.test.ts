import { beforeAll, describe, it } from "vitest";
import { AwsRecording, asBotocore } from "../helpers/aws-recording";
import { directFunction } from "../helpers/contract";
import type { TenantKey } from "../helpers/platform";
import { fn, newTenant, signed } from "../helpers/platform";

/**
 * Contract: how GetFunction, DeleteFunction, Invoke and CreateFunction refuse bad FunctionName /
 * Qualifier values, compared with AWS's recordings (test/helpers/aws-recording.ts): LocalStack's
 * test_lambda_api.snapshot.json › TestLambdaFunction::test_function_name_and_qualifier_validation[<case>-<operation>]
 * › <operation>_exception. The recording keeps the error code and either the message or, for
 * constraint violations, the sorted list of "Value '…' at '…' failed to satisfy constraint: …"
 * clauses and their count (LocalStack's _extract_from_error_message, reproduced in `summary`).
 */

/** The cases of the recorded test, `{account_id}` / `{region_name}` filled in as it does. */
const CASES: Record<string, { FunctionName: string; Qualifier?: string }> = {
  invalid_characters_in_function_name: { FunctionName: "my-function!" },
  function_name_is_single_invalid: { FunctionName: "*" },
  invalid_characters_in_qualifier: { FunctionName: "my-function", Qualifier: "invalid!" },
  qualifier_too_long: { FunctionName: "my-function", Qualifier: "a".repeat(129) },
  invalid_account_id_in_partial_arn: { FunctionName: "invalid-account:function:my-function" },
  invalid_region_in_arn: { FunctionName: "arn:aws:lambda:invalid-region:{account_id}:function:my-function" },
  non_lambda_arn: { FunctionName: "arn:aws:ec2:{region_name}:{account_id}:instance:i-1234567890abcdef0" },
  function_name_too_long: { FunctionName: "a".repeat(65) },
  function_name_too_long_and_invalid_region: { FunctionName: `arn:aws:lambda:invalid-region:{account_id}:function:my-function${"a".repeat(170)}` },
  full_arn_and_qualifier_too_long_and_invalid_region: {
    FunctionName: `arn:aws:lambda:invalid-region:{account_id}:function:my-function-${"a".repeat(170)}`,
    Qualifier: "a".repeat(129),
  },
  full_arn_with_multiple_qualifiers: { FunctionName: "arn:aws:lambda:{region_name}:{account_id}:function:my-function:1:2" },
  incomplete_arn: { FunctionName: "arn:aws:lambda:{region_name}:{account_id}:function" },
  partial_arn_with_extra_qualifier: { FunctionName: "function:my-function:$LATEST:extra" },
  latest_version_with_additional_qualifier: { FunctionName: "arn:aws:lambda:{region_name}:{account_id}:function:my-function:$LATEST", Qualifier: "1" },
  lowercase_latest_qualifier: { FunctionName: "arn:aws:lambda:{region_name}:{account_id}:function:my-function", Qualifier: "$latest" },
  missing_region_in_arn: { FunctionName: "arn:aws:lambda::{account_id}:function:my-function" },
  missing_account_id_in_arn: { FunctionName: "arn:aws:lambda:{region_name}::function:my-function" },
  misspelled_latest_in_arn: { FunctionName: "arn:aws:lambda:{region_name}:{account_id}:function:my-function:$LATES" },
};
const OPERATIONS = ["get_function", "delete_function", "invoke", "create_function"] as const;

/** LocalStack's _extract_from_error_message. */
function summary(answer: Record<string, unknown>) {
  const error = answer.Error as { Code: string; Message: string };
  const clauses = error.Message.match(/Value '.*?' at '.*?' failed to satisfy constraint: .+?(?=;|$)/g) ?? [];
  return clauses.length > 0 ? { Code: error.Code, Errors: [...clauses].sort(), Count: clauses.length } : { Code: error.Code, Message: error.Message };
}

describe("contract: FunctionName and Qualifier validation", () => {
  let key: TenantKey;
  beforeAll(async () => {
    key = await newTenant("full", "contract-names");
  });

  const call = (operation: (typeof OPERATIONS)[number], name: string, qualifier?: string) => {
    const query = qualifier === undefined ? "" : `?Qualifier=${encodeURIComponent(qualifier)}`;
    switch (operation) {
      case "get_function":
        return signed(key, "GET", `${fn(name)}${query}`);
      case "delete_function":
        return signed(key, "DELETE", `${fn(name)}${query}`);
      case "invoke":
        return signed(key, "POST", `${fn(name)}/invocations${query}`, "{}");
      case "create_function":
        // The recorded test folds the qualifier into the name for CreateFunction.
        return signed(key, "POST", "/2015-03-31/functions", directFunction(key, qualifier ? `${name}:${qualifier}` : name));
    }
  };

  for (const operation of OPERATIONS) {
    it.each(Object.entries(CASES))(`${operation}: %s`, async (id, input) => {
      const aws = new AwsRecording(`TestLambdaFunction::test_function_name_and_qualifier_validation[${id}-${operation}]`, key.accountId);
      // Recorded empty where the call succeeds on AWS (LocalStack skips it): incomplete_arn-create_function.
      if (!(`${operation}_exception` in (aws.expected("") as object))) return;
      const name = input.FunctionName.replaceAll("{account_id}", key.accountId).replaceAll("{region_name}", "us-east-1");
      const answer = await asBotocore(await call(operation, name, input.Qualifier), operation === "invoke" ? "Invoke" : undefined);
      aws.match(`${operation}_exception`, summary(answer));
    });
  }
});
