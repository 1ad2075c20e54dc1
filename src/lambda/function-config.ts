import { invalidParameter, validationError } from "../errors";
import type { CreateFunctionInput, UpdateFunctionConfigurationInput } from "./schemas";
import { CREATABLE_RUNTIMES_MESSAGE, MODEL_RUNTIMES } from "./schemas";

export const SUPPORTED_RUNTIMES = ["nodejs20.x", "nodejs22.x", "nodejs24.x"] as const;
export const MAX_TIMEOUT_SECONDS = 900;
export const MAX_MEMORY_MB = 10240;
const ENVIRONMENT_MAX_BYTES = 4096;
/** Environment keys the runtime sets itself (Lambda refuses them too). */
const RESERVED_ENV_KEYS = new Set([
  "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
  "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
  "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
  "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
  "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
]);

/** The configuration of one function version, as stored in function_versions.config. */
export interface StoredConfig {
  Runtime: string;
  Role: string;
  Handler: string;
  Description: string;
  Timeout: number;
  MemorySize: number;
  Environment?: { Variables: Record<string, string> };
  Architectures: string[];
  EphemeralStorage: { Size: number };
  TracingConfig: { Mode: string };
  DeadLetterConfig?: { TargetArn?: string };
  LoggingConfig: { LogFormat: string; LogGroup: string; ApplicationLogLevel?: string; SystemLogLevel?: string };
  KMSKeyArn?: string;
  SnapStart: { ApplyOn: string };
  TenancyConfig?: { TenantIsolationMode: string };
  /** Set for a durable function (src/durable/): its executions' timeout and retention. */
  DurableConfig?: { ExecutionTimeout: number; RetentionPeriodInDays: number; KMSKeyArn?: string };
  /** PutRuntimeManagementConfig: accepted and echoed (cellfn runs one build of each runtime). */
  RuntimeManagementConfig?: { UpdateRuntimeOn: string; RuntimeVersionArn?: string };
  /**
   * The layer versions the function named, in order. Shown as `{Arn, CodeSize}`;
   * the package hash and unzipped size let the code be built again from the
   * same immutable contents (src/services/function-layers.ts).
   */
  Layers?: StoredLayer[];
  /** Written by an older cellfn; tags now live on the function (functions.tags). */
  Tags?: Record<string, string>;
}

export interface StoredLayer {
  Arn: string;
  CodeSize: number;
  CodeSha256: string;
  UnzippedSize: number;
}

/** Builds the $LATEST configuration of a new function, refusing what cellfn cannot honour. */
export function newFunctionConfig(name: string, input: CreateFunctionInput): StoredConfig {
  // cellfn cannot run container images: refused whole, in AWS's error shape, before any other check.
  if (input.PackageType === "Image" || input.Code.ImageUri !== undefined) throw imagesUnsupported();
  refuseUnsupported(input);
  // AWS's wording (its CloudFormation answers quote it); one message for either missing.
  if (input.Runtime === undefined || input.Handler === undefined) {
    throw invalidParameter("Runtime and Handler are mandatory parameters for functions created with deployment packages.");
  }
  const config: StoredConfig = {
    Runtime: checkRuntime(input.Runtime),
    Role: input.Role,
    Handler: input.Handler,
    Description: input.Description ?? "",
    Timeout: checkTimeout(input.Timeout ?? 3),
    MemorySize: checkMemory(input.MemorySize ?? 128),
    Architectures: input.Architectures ?? ["x86_64"],
    EphemeralStorage: input.EphemeralStorage ?? { Size: 512 },
    TracingConfig: { Mode: input.TracingConfig?.Mode ?? "PassThrough" },
    LoggingConfig: loggingFor(name, input.LoggingConfig),
    SnapStart: { ApplyOn: input.SnapStart?.ApplyOn ?? "None" },
  };
  if (input.Environment) config.Environment = checkEnvironment(input.Environment.Variables ?? {});
  if (input.DeadLetterConfig) config.DeadLetterConfig = input.DeadLetterConfig;
  if (input.KMSKeyArn) config.KMSKeyArn = input.KMSKeyArn;
  if (input.TenancyConfig) config.TenancyConfig = input.TenancyConfig;
  if (input.DurableConfig) config.DurableConfig = durableConfigOf(input.DurableConfig);
  return config;
}

/** Applies UpdateFunctionConfiguration to $LATEST; Environment replaces the whole map, as in Lambda. */
export function updatedFunctionConfig(
  name: string,
  current: StoredConfig,
  input: UpdateFunctionConfigurationInput,
): StoredConfig {
  refuseUnsupported(input);
  const next: StoredConfig = { ...current };
  if (input.Runtime !== undefined) next.Runtime = checkRuntime(input.Runtime);
  if (input.Role !== undefined) next.Role = input.Role;
  if (input.Handler !== undefined) next.Handler = input.Handler;
  if (input.Description !== undefined) next.Description = input.Description;
  if (input.Timeout !== undefined) next.Timeout = checkTimeout(input.Timeout);
  if (input.MemorySize !== undefined) next.MemorySize = checkMemory(input.MemorySize);
  if (input.Environment !== undefined) next.Environment = checkEnvironment(input.Environment.Variables ?? {});
  if (input.EphemeralStorage !== undefined) next.EphemeralStorage = input.EphemeralStorage;
  if (input.TracingConfig !== undefined) next.TracingConfig = { Mode: input.TracingConfig.Mode ?? "PassThrough" };
  if (input.LoggingConfig !== undefined) next.LoggingConfig = loggingFor(name, { ...current.LoggingConfig, ...input.LoggingConfig });
  if (input.SnapStart !== undefined) next.SnapStart = { ApplyOn: input.SnapStart.ApplyOn ?? "None" };
  if (input.DeadLetterConfig !== undefined) {
    if (input.DeadLetterConfig.TargetArn) next.DeadLetterConfig = input.DeadLetterConfig;
    else delete next.DeadLetterConfig;
  }
  if (input.KMSKeyArn !== undefined) {
    if (input.KMSKeyArn) next.KMSKeyArn = input.KMSKeyArn;
    else delete next.KMSKeyArn;
  }
  if (input.DurableConfig !== undefined) next.DurableConfig = durableConfigOf({ ...current.DurableConfig, ...input.DurableConfig });
  return next;
}

/**
 * A value outside Lambda's Runtime enum (case-sensitive) gets Lambda's own
 * answer (docs/reference/lambda-api-notes.md §2); a runtime Lambda knows but cellfn does not
 * run gets a message naming the runtimes cellfn supports.
 */
function checkRuntime(runtime: string): string {
  if ((SUPPORTED_RUNTIMES as readonly string[]).includes(runtime)) return runtime;
  if (!(MODEL_RUNTIMES as readonly string[]).includes(runtime)) {
    throw invalidParameter(
      `Value ${runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: ${CREATABLE_RUNTIMES_MESSAGE}`,
    );
  }
  throw invalidParameter(
    `The runtime parameter of ${runtime} is not supported by cellfn. Supported runtimes: ${SUPPORTED_RUNTIMES.join(", ")}.`,
  );
}

function checkTimeout(seconds: number): number {
  if (seconds > MAX_TIMEOUT_SECONDS) {
    throw invalidParameter(
      `1 validation error detected: Value '${seconds}' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to ${MAX_TIMEOUT_SECONDS}`,
    );
  }
  return seconds;
}

function checkMemory(mb: number): number {
  if (mb > MAX_MEMORY_MB) {
    throw invalidParameter(
      `1 validation error detected: Value '${mb}' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to ${MAX_MEMORY_MB}`,
    );
  }
  return mb;
}

function checkEnvironment(variables: Record<string, string>): { Variables: Record<string, string> } {
  const reserved = Object.keys(variables).filter((k) => RESERVED_ENV_KEYS.has(k));
  if (reserved.length > 0) {
    throw invalidParameter(
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(", ")}`,
    );
  }
  const badKey = Object.keys(variables).find((k) => !/^[a-zA-Z]([a-zA-Z0-9_])+$/.test(k));
  if (badKey !== undefined) {
    throw validationError(`1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+] (key '${badKey}')`);
  }
  const measured = JSON.stringify(variables);
  if (new TextEncoder().encode(measured).byteLength > ENVIRONMENT_MAX_BYTES) {
    throw invalidParameter(
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${measured}`,
    );
  }
  return { Variables: variables };
}

/**
 * LoggingConfig as AWS returns it, complete: `{LogFormat, LogGroup}` for
 * Text; for JSON also ApplicationLogLevel and SystemLogLevel, INFO unless
 * given (LocalStack's AWS-validated snapshots, test_lambda_api
 * TestLoggingConfig: `{"ApplicationLogLevel": "INFO", "LogFormat": "JSON",
 * "LogGroup": "/aws/lambda/<name>", "SystemLogLevel": "INFO"}`).
 */
function loggingFor(name: string, input: Partial<StoredConfig["LoggingConfig"]> | undefined): StoredConfig["LoggingConfig"] {
  const base = { LogFormat: input?.LogFormat ?? "Text", LogGroup: input?.LogGroup ?? `/aws/lambda/${name}` };
  if (base.LogFormat !== "JSON") return base;
  return { ...base, ApplicationLogLevel: input?.ApplicationLogLevel ?? "INFO", SystemLogLevel: input?.SystemLogLevel ?? "INFO" };
}

/** DurableConfig as stored and shown: both members filled in (ExecutionTimeout default unconfirmed: one day). */
function durableConfigOf(input: { ExecutionTimeout?: number | undefined; RetentionPeriodInDays?: number | undefined; KMSKeyArn?: string | undefined }): NonNullable<StoredConfig["DurableConfig"]> {
  return {
    ExecutionTimeout: input.ExecutionTimeout ?? 86_400,
    RetentionPeriodInDays: input.RetentionPeriodInDays ?? 14,
    ...(input.KMSKeyArn ? { KMSKeyArn: input.KMSKeyArn } : {}),
  };
}

type Unsupportable = Pick<CreateFunctionInput, "VpcConfig" | "FileSystemConfigs" | "ImageConfig" | "CapacityProviderConfig"> & { CodeSigningConfigArn?: string | undefined };

/** Settings cellfn has no equivalent for are refused rather than silently ignored. Empty forms (as tools send them) pass. */
function refuseUnsupported(input: Unsupportable): void {
  if (input.VpcConfig && ((input.VpcConfig.SubnetIds?.length ?? 0) > 0 || (input.VpcConfig.SecurityGroupIds?.length ?? 0) > 0)) {
    throw unsupported("VpcConfig", "Remove SubnetIds and SecurityGroupIds");
  }
  if (input.FileSystemConfigs && input.FileSystemConfigs.length > 0) throw unsupported("FileSystemConfigs", "Remove FileSystemConfigs");
  if (input.ImageConfig !== undefined) throw unsupported("ImageConfig", "Remove ImageConfig");
  if (input.CodeSigningConfigArn) throw unsupported("CodeSigningConfigArn", "Remove CodeSigningConfigArn");
  if (input.CapacityProviderConfig !== undefined) throw unsupported("CapacityProviderConfig", "Remove CapacityProviderConfig");
}

/** Container images (PackageType Image, Code.ImageUri): cellfn runs .zip packages in Workers isolates, not containers. */
export function imagesUnsupported() {
  return invalidParameter(
    "cellfn runs .zip deployment packages only: PackageType Image and Code.ImageUri are not supported. Package the function as a .zip and send it as Code.ZipFile (PackageType Zip, the default).",
  );
}

function unsupported(what: string, fix: string) {
  return invalidParameter(`${what} is not supported by cellfn. ${fix}.`);
}
