import { z } from "zod";
import { validationErrors } from "../errors";
import { MODEL_RUNTIMES } from "./schemas";

/**
 * Request shapes of the layer operations (lambda-api.md). Runtimes and
 * architectures are parsed as strings and checked by `checkCompatibility`,
 * which words the failures as AWS does (LocalStack's AWS-validated
 * api_utils.validate_layer_runtimes_and_architectures).
 */

const pattern = (regex: RegExp, shown: string) => z.string().regex(regex, `Member must satisfy regular expression pattern: ${shown}`);
const ARCHITECTURES = ["x86_64", "arm64"] as const;
/** Lambda's limits on the lists (PublishLayerVersion's model: at most 15 runtimes, 2 architectures). */
const MAX_COMPATIBLE_RUNTIMES = 15;
const MAX_COMPATIBLE_ARCHITECTURES = 2;

export const publishLayerVersionSchema = z.strictObject({
  Description: z.string().max(256).optional(),
  Content: z.strictObject({
    S3Bucket: z.string().optional(),
    S3Key: z.string().optional(),
    S3ObjectVersion: z.string().optional(),
    ZipFile: z.string().optional(),
  }),
  CompatibleRuntimes: z.array(z.string()).max(MAX_COMPATIBLE_RUNTIMES).optional(),
  LicenseInfo: z.string().max(512).optional(),
  CompatibleArchitectures: z.array(z.string()).max(MAX_COMPATIBLE_ARCHITECTURES).optional(),
});
export type PublishLayerVersionInput = z.infer<typeof publishLayerVersionSchema>;

export const addLayerVersionPermissionSchema = z.strictObject({
  StatementId: pattern(/^[a-zA-Z0-9-_]+$/, "([a-zA-Z0-9-_]+)").min(1).max(100),
  Action: pattern(/^lambda:GetLayerVersion$/, "lambda:GetLayerVersion").max(22),
  Principal: pattern(/^(?:\d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root)$/, "\\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root"),
  OrganizationId: pattern(/^o-[a-z0-9]{10,32}$/, "o-[a-z0-9]{10,32}").max(34).optional(),
});
export type AddLayerVersionPermissionInput = z.infer<typeof addLayerVersionPermissionSchema>;

/** The list filters' query parameters (ListLayers, ListLayerVersions). */
export const layerListQuerySchema = z.object({
  Marker: z.string().optional(),
  MaxItems: z
    .string()
    .regex(/^[0-9]+$/, "Member must be a whole number")
    .transform(Number)
    .pipe(z.int().min(1).max(50))
    .optional(),
});

/** CompatibleRuntimes / CompatibleArchitectures (lists) or the singular filters of the List operations. */
export function checkCompatibility(input: { runtimes?: string[] | undefined; architectures?: string[] | undefined; runtime?: string | undefined; architecture?: string | undefined }): void {
  const problems: string[] = [];
  const runtimes: readonly string[] = MODEL_RUNTIMES;
  const architectures: readonly string[] = ARCHITECTURES;
  const runtimeSet = `[${MODEL_RUNTIMES.join(", ")}]`;
  if (input.runtimes?.some((r) => !runtimes.includes(r))) {
    problems.push(`Value '[${input.runtimes.join(", ")}]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: ${runtimeSet}`);
  }
  if (input.architectures?.some((a) => !architectures.includes(a))) {
    problems.push(
      `Value '[${input.architectures.join(", ")}]' at 'compatibleArchitectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]`,
    );
  }
  if (input.architecture !== undefined && !architectures.includes(input.architecture)) {
    problems.push(`Value '${input.architecture}' at 'compatibleArchitecture' failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]`);
  }
  if (input.runtime !== undefined && !runtimes.includes(input.runtime)) {
    problems.push(`Value '${input.runtime}' at 'compatibleRuntime' failed to satisfy constraint: Member must satisfy enum value set: ${runtimeSet}`);
  }
  if (problems.length > 0) throw validationErrors(problems);
}
