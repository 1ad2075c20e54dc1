import type { AliasRow, VersionRow } from "../data/function-store";
import { LATEST } from "../data/function-store";
import type { NameContext } from "./function-name";
import { shownState } from "./function-state";
import { functionArn } from "./function-name";

/**
 * FunctionConfiguration as Lambda returns it. `arnQualifier` follows
 * docs/reference/lambda-api-notes.md §2: unqualified for $LATEST reached without a qualifier,
 * the version number for published versions, `$LATEST` or the alias name when
 * the caller addressed it that way.
 */
export function functionConfiguration(
  row: VersionRow,
  ctx: NameContext,
  opts: { arnQualifier?: string | null; list?: boolean } = {},
): Record<string, unknown> {
  // null asks for the unqualified ARN whatever the version (CreateFunction with Publish).
  const qualifier =
    opts.arnQualifier === null ? undefined : (opts.arnQualifier ?? (row.version === LATEST ? undefined : row.version));
  // An update in progress shows what it will make of the function (as AWS does), while the row keeps running the previous code.
  const state = shownState(row, Date.now());
  const shown = state.pending ? { ...row, ...state.pending } : row;
  const c = shown.config;
  const out: Record<string, unknown> = {
    FunctionName: row.functionName,
    FunctionArn: functionArn(ctx, row.functionName, qualifier),
    Runtime: c.Runtime,
    Role: c.Role,
    Handler: c.Handler,
    CodeSize: shown.codeSize,
    Description: c.Description,
    Timeout: c.Timeout,
    MemorySize: c.MemorySize,
    LastModified: shown.lastModified,
    CodeSha256: shown.codeSha256,
    Version: row.version,
    TracingConfig: c.TracingConfig,
    RevisionId: row.revisionId,
    PackageType: "Zip",
    Architectures: c.Architectures,
    EphemeralStorage: c.EphemeralStorage,
    SnapStart: { ApplyOn: c.SnapStart.ApplyOn, OptimizationStatus: "Off" },
    LoggingConfig: c.LoggingConfig,
  };
  if (c.Layers && c.Layers.length > 0) out.Layers = c.Layers.map((l) => ({ Arn: l.Arn, CodeSize: l.CodeSize }));
  if (c.Environment) out.Environment = c.Environment;
  if (c.DeadLetterConfig) out.DeadLetterConfig = c.DeadLetterConfig;
  if (c.KMSKeyArn) out.KMSKeyArn = c.KMSKeyArn;
  if (c.TenancyConfig) out.TenancyConfig = c.TenancyConfig;
  if (c.DurableConfig) out.DurableConfig = c.DurableConfig;
  // ListFunctions and ListVersionsByFunction leave the state out, as AWS does.
  if (!opts.list) {
    Object.assign(out, state.fields);
    out.RuntimeVersionConfig = {
      RuntimeVersionArn: c.RuntimeManagementConfig?.RuntimeVersionArn ?? defaultRuntimeVersionArn(ctx, c.Runtime),
    };
  }
  return out;
}

export function aliasConfiguration(row: AliasRow, ctx: NameContext): Record<string, unknown> {
  const out: Record<string, unknown> = {
    AliasArn: functionArn(ctx, row.functionName, row.name),
    Name: row.name,
    FunctionVersion: row.functionVersion,
    Description: row.description,
    RevisionId: row.revisionId,
  };
  if (row.additionalVersionWeights && Object.keys(row.additionalVersionWeights).length > 0) {
    out.RoutingConfig = { AdditionalVersionWeights: row.additionalVersionWeights };
  }
  return out;
}

/** `2019-09-24T18:32:46.742+0000`, the format of Lambda's string timestamps. */
export function lambdaTimestamp(date = new Date()): string {
  return date.toISOString().replace("Z", "+0000");
}

/** The runtime version cellfn runs for `runtime` (one build of each). */
export function defaultRuntimeVersionArn(ctx: NameContext, runtime: string): string {
  return `arn:aws:lambda:${ctx.region}::runtime:cellfn-${runtime}`;
}
