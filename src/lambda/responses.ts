import type { AliasRow, VersionRow } from "../data/function-store";
import { LATEST } from "../data/function-store";
import type { NameContext } from "./function-name";
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
  const c = row.config;
  const out: Record<string, unknown> = {
    FunctionName: row.functionName,
    FunctionArn: functionArn(ctx, row.functionName, qualifier),
    Runtime: c.Runtime,
    Role: c.Role,
    Handler: c.Handler,
    CodeSize: row.codeSize,
    Description: c.Description,
    Timeout: c.Timeout,
    MemorySize: c.MemorySize,
    LastModified: row.lastModified,
    CodeSha256: row.codeSha256,
    Version: row.version,
    TracingConfig: c.TracingConfig,
    RevisionId: row.revisionId,
    PackageType: "Zip",
    Architectures: c.Architectures,
    EphemeralStorage: c.EphemeralStorage,
    SnapStart: { ApplyOn: c.SnapStart.ApplyOn, OptimizationStatus: "Off" },
    LoggingConfig: c.LoggingConfig,
  };
  if (c.Environment) out.Environment = c.Environment;
  if (c.DeadLetterConfig) out.DeadLetterConfig = c.DeadLetterConfig;
  if (c.KMSKeyArn) out.KMSKeyArn = c.KMSKeyArn;
  if (c.TenancyConfig) out.TenancyConfig = c.TenancyConfig;
  // Creation and updates finish before the response, so the function is
  // always settled; the CLI/SDK waiters need these to say so.
  if (!opts.list) {
    out.State = "Active";
    out.LastUpdateStatus = "Successful";
    out.RuntimeVersionConfig = {
      RuntimeVersionArn: `arn:aws:lambda:${ctx.region}::runtime:cellfn-${c.Runtime}`,
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
