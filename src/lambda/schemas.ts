import { z } from "zod";
import { RECURSIVE_LOOP_VALUES } from "../invoke/recursion";
import { CREATE_FUNCTION_NAME, CREATE_PATTERN } from "./function-name";

/**
 * Request shapes of the control-plane operations, with the service model's
 * constraints (docs/reference/lambda-api.md). Objects are strict: Lambda refuses
 * fields it does not know. Service-level rules the model does not express
 * (Timeout <= 900, supported runtimes, 4 KB of environment) live in
 * src/lambda/function-config.ts.
 */

/**
 * The service model's Runtime enum, in the model's order. Runtime is parsed
 * as a plain string: Lambda answers a value outside this set with
 * InvalidParameterValueException, not ValidationException
 * (docs/reference/lambda-api-notes.md §2), so src/lambda/function-config.ts checks it.
 */
/**
 * The runtimes AWS lists when it refuses a Runtime outside its enum, in its order, and the ARN
 * alternative it names after them: AWS's recorded answer (LocalStack's AWS-validated snapshot
 * test_lambda_api TestLambdaFunction::test_create_lambda_exceptions › invalid_runtime_exc,
 * recorded 2025-11). The runtimes one can still create functions with, not the model's enum.
 */
export const CREATABLE_RUNTIMES_MESSAGE =
  "[nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, " +
  "java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, " +
  "provided.al2, java8.al2] or be a valid ARN";

export const MODEL_RUNTIMES = [
  "nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x", "nodejs16.x",
  "java8", "java8.al2", "java11", "python2.7", "python3.6", "python3.7", "python3.8", "python3.9",
  "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "dotnet6", "dotnet8", "nodejs4.3-edge",
  "go1.x", "ruby2.5", "ruby2.7", "provided", "provided.al2", "nodejs18.x", "python3.10", "java17", "ruby3.2",
  "ruby3.3", "ruby3.4", "python3.11", "nodejs20.x", "provided.al2023", "python3.12", "java21", "python3.13",
  "nodejs22.x", "nodejs24.x", "python3.14", "java25", "dotnet10", "ruby4.0",
] as const;

const ROLE = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const HANDLER = /^[^\s]+$/;
const ALIAS_NAME = /^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/;
const VERSION = /^(\$LATEST|[0-9]+)$/;

const runtime = z.string();
const role = z.string().regex(ROLE);
const handler = z.string().max(128).regex(HANDLER);
const description = z.string().max(256);
const timeout = z.int().min(1);
const memorySize = z.int().min(128).max(32768);

const environment = z.strictObject({ Variables: z.record(z.string(), z.string()).optional() });
const tracingConfig = z.strictObject({ Mode: z.enum(["Active", "PassThrough"]).optional() });
const deadLetterConfig = z.strictObject({ TargetArn: z.string().optional() });
const ephemeralStorage = z.strictObject({ Size: z.int().min(512).max(10240) });
const ARCHITECTURES = ["x86_64", "arm64"] as const;
/** The list is checked as a whole and a bad member named by the list, as AWS words it (its recording, test_create_lambda_exceptions). */
const architectures = z
  .array(z.string())
  .min(1)
  .max(1)
  .superRefine((list, ctx) => {
    if (list.some((item) => !(ARCHITECTURES as readonly string[]).includes(item))) {
      ctx.addIssue({ code: "custom", input: list, message: "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]" });
    }
  })
  .transform((list) => list as (typeof ARCHITECTURES)[number][]);
const loggingConfig = z.strictObject({
  LogFormat: z.enum(["JSON", "Text"]).optional(),
  ApplicationLogLevel: z.enum(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]).optional(),
  SystemLogLevel: z.enum(["DEBUG", "INFO", "WARN"]).optional(),
  LogGroup: z.string().min(1).max(512).optional(),
});
const vpcConfig = z.strictObject({
  SubnetIds: z.array(z.string()).optional(),
  SecurityGroupIds: z.array(z.string()).optional(),
  Ipv6AllowedForDualStack: z.boolean().optional(),
});
const snapStart = z.strictObject({ ApplyOn: z.enum(["PublishedVersions", "None"]).optional() });
const kmsKeyArn = z.string();
/** DurableConfig (docs/reference/lambda-api-notes.md §8.1): ExecutionTimeout up to a year, retention 1..90 days. */
const durableConfig = z.strictObject({
  ExecutionTimeout: z.int().min(1).max(31_622_400).optional(),
  RetentionPeriodInDays: z.int().min(1).max(90).optional(),
  KMSKeyArn: z.string().optional(),
});
const layers = z.array(z.string());
const fileSystemConfigs = z.array(z.unknown());

export const functionCodeSchema = z.strictObject({
  ZipFile: z.string().optional(),
  S3Bucket: z.string().optional(),
  S3Key: z.string().optional(),
  S3ObjectVersion: z.string().optional(),
  ImageUri: z.string().optional(),
  SourceKMSKeyArn: z.string().optional(),
});

export const createFunctionSchema = z.strictObject({
  // A name over 140 characters that also breaks the pattern gets both violations (AWS's recorded answer).
  FunctionName: z.string().min(1).max(140).regex(CREATE_FUNCTION_NAME, `Member must satisfy regular expression pattern: ${CREATE_PATTERN}`),
  Runtime: runtime.optional(),
  Role: role,
  Handler: handler.optional(),
  Code: functionCodeSchema,
  Description: description.optional(),
  Timeout: timeout.optional(),
  MemorySize: memorySize.optional(),
  Publish: z.boolean().optional(),
  PublishTo: z.enum(["LATEST_PUBLISHED"]).optional(),
  VpcConfig: vpcConfig.optional(),
  PackageType: z.enum(["Zip", "Image"]).optional(),
  DeadLetterConfig: deadLetterConfig.optional(),
  Environment: environment.optional(),
  KMSKeyArn: kmsKeyArn.optional(),
  TracingConfig: tracingConfig.optional(),
  Tags: z.record(z.string(), z.string()).optional(),
  Layers: layers.optional(),
  FileSystemConfigs: fileSystemConfigs.optional(),
  ImageConfig: z.unknown().optional(),
  CodeSigningConfigArn: z.string().max(200).optional(),
  Architectures: architectures.optional(),
  EphemeralStorage: ephemeralStorage.optional(),
  SnapStart: snapStart.optional(),
  LoggingConfig: loggingConfig.optional(),
  CapacityProviderConfig: z.unknown().optional(),
  DurableConfig: durableConfig.optional(),
  TenancyConfig: z.strictObject({ TenantIsolationMode: z.enum(["PER_TENANT"]) }).optional(),
});
export type CreateFunctionInput = z.infer<typeof createFunctionSchema>;

export const updateFunctionConfigurationSchema = z.strictObject({
  Role: role.optional(),
  Handler: handler.optional(),
  Description: description.optional(),
  Timeout: timeout.optional(),
  MemorySize: memorySize.optional(),
  VpcConfig: vpcConfig.optional(),
  Environment: environment.optional(),
  Runtime: runtime.optional(),
  DeadLetterConfig: deadLetterConfig.optional(),
  KMSKeyArn: kmsKeyArn.optional(),
  TracingConfig: tracingConfig.optional(),
  RevisionId: z.string().optional(),
  Layers: layers.optional(),
  FileSystemConfigs: fileSystemConfigs.optional(),
  ImageConfig: z.unknown().optional(),
  EphemeralStorage: ephemeralStorage.optional(),
  SnapStart: snapStart.optional(),
  LoggingConfig: loggingConfig.optional(),
  CapacityProviderConfig: z.unknown().optional(),
  DurableConfig: durableConfig.optional(),
});
export type UpdateFunctionConfigurationInput = z.infer<typeof updateFunctionConfigurationSchema>;

export const updateFunctionCodeSchema = z.strictObject({
  ZipFile: z.string().optional(),
  S3Bucket: z.string().optional(),
  S3Key: z.string().optional(),
  S3ObjectVersion: z.string().optional(),
  ImageUri: z.string().optional(),
  Publish: z.boolean().optional(),
  PublishTo: z.enum(["LATEST_PUBLISHED"]).optional(),
  DryRun: z.boolean().optional(),
  RevisionId: z.string().optional(),
  Architectures: architectures.optional(),
  SourceKMSKeyArn: z.string().optional(),
});
export type UpdateFunctionCodeInput = z.infer<typeof updateFunctionCodeSchema>;

export const publishVersionSchema = z.strictObject({
  CodeSha256: z.string().optional(),
  Description: description.optional(),
  RevisionId: z.string().optional(),
  PublishTo: z.enum(["LATEST_PUBLISHED"]).optional(),
});

/** The refused map as AWS (Java) prints it in the message: `{2=2.0}`. */
const javaMap = (weights: Record<string, number>) =>
  `{${Object.entries(weights).map(([version, weight]) => `${version}=${Number.isInteger(weight) ? weight.toFixed(1) : String(weight)}`).join(", ")}}`;
const WEIGHT_KEYS =
  "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]";
const WEIGHT_VALUES =
  "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]";
/** Weights are checked as a map, one violation for its keys and one for its values, in AWS's words (its recorded answers). */
const additionalVersionWeights = z.record(z.string(), z.number()).superRefine((weights, ctx) => {
  const entries = Object.entries(weights);
  if (entries.some(([version]) => !/^[0-9]+$/.test(version) || version.length > 1024)) {
    ctx.addIssue({ code: "custom", message: WEIGHT_KEYS, input: javaMap(weights) });
  }
  if (entries.some(([, weight]) => weight < 0 || weight > 1)) ctx.addIssue({ code: "custom", message: WEIGHT_VALUES, input: javaMap(weights) });
});
const routingConfig = z.strictObject({
  AdditionalVersionWeights: additionalVersionWeights.optional(),
});
export type RoutingConfig = z.infer<typeof routingConfig>;

export const createAliasSchema = z.strictObject({
  Name: z.string().min(1).max(128).regex(ALIAS_NAME),
  FunctionVersion: z.string().min(1).max(1024).regex(VERSION),
  Description: description.optional(),
  RoutingConfig: routingConfig.optional(),
});

export const updateAliasSchema = z.strictObject({
  FunctionVersion: z.string().min(1).max(1024).regex(VERSION).optional(),
  Description: description.optional(),
  RoutingConfig: routingConfig.optional(),
  RevisionId: z.string().optional(),
});

export const putConcurrencySchema = z.strictObject({
  ReservedConcurrentExecutions: z.int().min(0),
});

export const putRecursionConfigSchema = z.strictObject({
  RecursiveLoop: z.enum(RECURSIVE_LOOP_VALUES),
});

/** Alias names in paths follow the same rule as in bodies. */
export const aliasNameSchema = z.string().min(1).max(128).regex(ALIAS_NAME);

/**
 * Marker / MaxItems of the List* operations. Query values are strings; a
 * MaxItems that is not a whole number is a constraint failure on the
 * member, not a body that failed to parse.
 */
export const listQuerySchema = z.object({
  Marker: z.string().optional(),
  MaxItems: z
    .string()
    .regex(/^[0-9]+$/, "Member must be a whole number")
    .transform(Number)
    .pipe(z.int().min(1).max(10000))
    .optional(),
});

/** TagResource's body (Tags is required by the model). */
export const tagResourceSchema = z.strictObject({
  Tags: z.record(z.string(), z.string()),
});

const pattern = (regex: RegExp, shown: string) => z.string().regex(regex, `Member must satisfy regular expression pattern: ${shown}`);

/** AddPermission's body (lambda-api.md; patterns as AWS names them in its messages). */
export const addPermissionSchema = z.strictObject({
  StatementId: pattern(/^[a-zA-Z0-9-_]+$/, "([a-zA-Z0-9-_]+)").min(1).max(100),
  Action: pattern(/^(lambda:[*]|lambda:[a-zA-Z]+|[*])$/, "(lambda:[*]|lambda:[a-zA-Z]+|[*])"),
  Principal: pattern(/^[^\s]+$/, "[^\\s]+"),
  SourceArn: z.string().optional(),
  SourceAccount: pattern(/^\d{12}$/, "\\d{12}").max(12).optional(),
  EventSourceToken: pattern(/^[a-zA-Z0-9._-]+$/, "[a-zA-Z0-9._\\-]+").max(256).optional(),
  RevisionId: z.string().optional(),
  PrincipalOrgID: pattern(/^o-[a-z0-9]{10,32}$/, "o-[a-z0-9]{10,32}").min(12).max(34).optional(),
  FunctionUrlAuthType: z.enum(["NONE", "AWS_IAM"]).optional(),
  InvokedViaFunctionUrl: z.boolean().optional(),
});
export type AddPermissionInput = z.infer<typeof addPermissionSchema>;

/** PutRuntimeManagementConfig's body. */
export const putRuntimeManagementSchema = z.strictObject({
  UpdateRuntimeOn: z.enum(["Auto", "Manual", "FunctionUpdate"]),
  RuntimeVersionArn: z.string().min(26).max(2048).optional(),
});
export type PutRuntimeManagementInput = z.infer<typeof putRuntimeManagementSchema>;
