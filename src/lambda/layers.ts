/**
 * The rules of Lambda layers that need no storage: names and ARNs, the
 * checks of a function's `Layers` list, and layer policy statements. AWS's
 * wording comes from LocalStack's AWS-validated provider and snapshots
 * (localstack services/lambda_/provider.py `_validate_layers`,
 * `add_layer_version_permission`, `get_layer_version_policy`) and the AWS CLI
 * reference examples of add-layer-version-permission / get-layer-version-policy.
 */
import { invalidParameter, validationErrors } from "../errors";
import type { NameContext } from "./function-name";

/** Layers per function (lambda-api-notes.md limits). */
export const MAX_LAYERS_PER_FUNCTION = 5;
export const LAYER_NAME_MAX = 140;

const NAME = /^[a-zA-Z0-9-_]+$/;
const LAYER_ARN = /^arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+)$/;
const LAYER_VERSION_ARN = /^arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+):([0-9]+)$/;
const LAYER_NAME_PATTERN = "(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+";
/** The pattern AWS names when a function's Layers entry is not a layer version ARN. */
const FUNCTION_LAYERS_PATTERN =
  "(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)";
const VERSION_ARN_PATTERN = "arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+";

/** A layer: its owner's account, region and name. */
export interface LayerRef {
  accountId: string;
  region: string;
  name: string;
}

/** A layer version named by ARN. */
export interface LayerVersionRef extends LayerRef {
  version: number;
}

export function layerArn(ref: LayerRef): string {
  return `arn:aws:lambda:${ref.region}:${ref.accountId}:layer:${ref.name}`;
}

export function layerVersionArn(ref: LayerVersionRef): string {
  return `${layerArn(ref)}:${ref.version}`;
}

/** `{LayerName}` of the URI: a name (the caller's layer) or a layer ARN (anyone's). */
export function parseLayerName(raw: string, ctx: NameContext): LayerRef {
  const arn = LAYER_ARN.exec(raw);
  if (raw.length <= LAYER_NAME_MAX && arn) {
    const [, region = "", accountId = "", name = ""] = arn;
    return { region, accountId, name };
  }
  if (raw.length === 0 || raw.length > LAYER_NAME_MAX || !NAME.test(raw)) {
    const problems: string[] = [];
    if (raw.length > LAYER_NAME_MAX) problems.push(`Value '${raw}' at 'layerName' failed to satisfy constraint: Member must have length less than or equal to ${LAYER_NAME_MAX}`);
    if (!NAME.test(raw) && !arn) problems.push(`Value '${raw}' at 'layerName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${LAYER_NAME_PATTERN}`);
    throw validationErrors(problems.length > 0 ? problems : [`Value '${raw}' at 'layerName' failed to satisfy constraint: Member must have length greater than or equal to 1`]);
  }
  return { region: ctx.region, accountId: ctx.accountId, name: raw };
}

/** `{VersionNumber}` of the URI (a long in the model); below 1 as LocalStack's AWS-validated answer. */
export function parseVersionNumber(raw: string): number {
  if (!/^-?[0-9]+$/.test(raw)) {
    throw validationErrors([`Value '${raw}' at 'versionNumber' failed to satisfy constraint: Member must be a number`]);
  }
  const version = Number(raw);
  if (version < 1) throw invalidParameter("Layer Version Cannot be less than 1");
  return version;
}

/** GetLayerVersionByArn's `Arn`: a layer version ARN or AWS's ValidationException. */
export function parseLayerVersionArn(arn: string): LayerVersionRef {
  const parsed = arn.length <= LAYER_NAME_MAX ? LAYER_VERSION_ARN.exec(arn) : null;
  if (!parsed) {
    throw validationErrors([`Value '${arn}' at 'arn' failed to satisfy constraint: Member must satisfy regular expression pattern: ${VERSION_ARN_PATTERN}`]);
  }
  const [, region = "", accountId = "", name = "", version = "0"] = parsed;
  return { region, accountId, name, version: Number(version) };
}

/**
 * The model and count checks of a function's `Layers`, before any lookup:
 * more than 5 is refused first, then an entry that is not a layer version
 * ARN (AWS lists the whole value), then an entry of another region.
 */
export function checkLayerList(arns: readonly string[], ctx: NameContext): LayerVersionRef[] {
  if (arns.length > MAX_LAYERS_PER_FUNCTION) throw invalidParameter(`Cannot reference more than ${MAX_LAYERS_PER_FUNCTION} layers.`);
  const refs = arns.map((arn) => (arn.length <= LAYER_NAME_MAX ? LAYER_VERSION_ARN.exec(arn) : null));
  if (refs.some((r) => r === null)) {
    throw validationErrors([
      `Value '[${arns.join(", ")}]' at 'layers' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 2048, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ${FUNCTION_LAYERS_PATTERN}, Member must not be null]`,
    ]);
  }
  return refs.map((match) => {
    const [, region = "", accountId = "", name = "", version = "0"] = match ?? [];
    if (region !== ctx.region) {
      throw invalidParameter(`Layers are not in the same region as the function. Layers are expected to be in region ${ctx.region}.`);
    }
    return { region, accountId, name, version: Number(version) };
  });
}

/** Two versions of one layer in a function's list (AWS names the first two). */
export function duplicateLayer(refs: readonly LayerVersionRef[]): string | undefined {
  const seen = new Map<string, string>();
  for (const ref of refs) {
    const layer = layerArn(ref);
    const earlier = seen.get(layer);
    if (earlier !== undefined) {
      return `Two different versions of the same layer are not allowed to be referenced in the same function. ${earlier} and ${layerVersionArn(ref)} are versions of the same layer.`;
    }
    seen.set(layer, layerVersionArn(ref));
  }
  return undefined;
}

/** A layer policy statement as AWS returns it. */
export interface LayerStatement {
  Sid: string;
  Effect: "Allow";
  Principal: string | { AWS: string };
  Action: string;
  Resource: string;
  Condition?: { StringEquals: { "aws:PrincipalOrgID": string } };
}

/** The account id a Principal grants ("*" for everyone); AddLayerVersionPermission's model allows these three forms. */
export function grantedAccount(principal: string): string {
  if (principal === "*") return "*";
  const root = /^arn:aws[a-zA-Z-]*:iam::(\d{12}):root$/.exec(principal);
  return root?.[1] ?? principal;
}

export function layerStatement(input: { StatementId: string; Action: string; Principal: string; OrganizationId?: string | undefined }, resource: string): LayerStatement {
  const account = grantedAccount(input.Principal);
  const statement: LayerStatement = {
    Sid: input.StatementId,
    Effect: "Allow",
    Principal: account === "*" ? "*" : { AWS: `arn:aws:iam::${account}:root` },
    Action: input.Action,
    Resource: resource,
  };
  if (input.OrganizationId !== undefined) statement.Condition = { StringEquals: { "aws:PrincipalOrgID": input.OrganizationId } };
  return statement;
}

/**
 * Whether statements grant `callerAccountId` the use of a layer version.
 * cellfn has no AWS Organizations: a statement limited to an organization
 * grants nobody.
 */
export function grantsLayer(statements: readonly { principal: string; statement: LayerStatement }[], callerAccountId: string): boolean {
  return statements.some(
    (s) => s.statement.Condition === undefined && (s.principal === "*" || s.principal === callerAccountId),
  );
}

/** The NODE_PATH directories of layers, in Lambda's order, for a runtime such as `nodejs22.x`. */
export function layerNodePath(runtime: string): string[] {
  const major = /^nodejs(\d+)\.x$/.exec(runtime)?.[1];
  return [...(major ? [`nodejs/node${major}/node_modules`] : []), "nodejs/node_modules"];
}
