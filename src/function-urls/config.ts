/**
 * The FunctionUrlConfig shapes of the management API, pure: request bodies
 * with the service model's constraints (docs/reference/lambda-api.md
 * CreateFunctionUrlConfig, Cors), the Qualifier rule, the url id, and the
 * answers of Create / Get / Update / List.
 */
import { z } from "zod";
import { validationError } from "../errors";
import type { FunctionUrlRow } from "../data/function-url-store";
import { functionArn } from "../lambda/function-name";
import type { NameContext } from "../lambda/function-name";

/** The model's pattern for a URL's Qualifier: an alias name, never a version number or `$LATEST`. */
const URL_QUALIFIER = /^(?!\d+$)[0-9a-zA-Z-_]+$/;
const URL_QUALIFIER_PATTERN = "((?!^\\d+$)^[0-9a-zA-Z-_]+$)";
const QUALIFIER_MAX = 128;

/** Lambda's CORS limits (model `Cors`; list sizes as CloudFormation's AWS::Lambda::Url schema gives them). */
export const CORS_LIST_MAX_ITEMS = 100;
export const CORS_METHODS_MAX_ITEMS = 6;
export const CORS_MAX_AGE_MAX_S = 86_400;
/** The methods a URL's CORS may allow (AWS::Lambda::Url schema); `*` is every one. */
export const CORS_METHODS = ["GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "*"] as const;

const header = z.string().max(1024);
export const corsSchema = z.strictObject({
  AllowCredentials: z.boolean().optional(),
  AllowHeaders: z.array(header).max(CORS_LIST_MAX_ITEMS).optional(),
  AllowMethods: z.array(z.string().max(6)).max(CORS_METHODS_MAX_ITEMS).optional(),
  AllowOrigins: z.array(z.string().min(1).max(253)).max(CORS_LIST_MAX_ITEMS).optional(),
  ExposeHeaders: z.array(header).max(CORS_LIST_MAX_ITEMS).optional(),
  MaxAge: z.int().min(0).max(CORS_MAX_AGE_MAX_S).optional(),
});
export type Cors = z.infer<typeof corsSchema>;

const authType = z.enum(["NONE", "AWS_IAM"]);
const invokeMode = z.enum(["BUFFERED", "RESPONSE_STREAM"]);

export const createUrlSchema = z.strictObject({
  AuthType: authType,
  Cors: corsSchema.optional(),
  InvokeMode: invokeMode.optional(),
});
export type CreateUrlInput = z.infer<typeof createUrlSchema>;

export const updateUrlSchema = z.strictObject({
  AuthType: authType.optional(),
  Cors: corsSchema.optional(),
  InvokeMode: invokeMode.optional(),
});
export type UpdateUrlInput = z.infer<typeof updateUrlSchema>;

/** `?Qualifier=` of the URL operations: refused with AWS's message unless it is an alias name. */
export function checkUrlQualifier(qualifier: string | undefined): void {
  if (qualifier === undefined) return;
  const constraint =
    qualifier.length === 0
      ? "Member must have length greater than or equal to 1"
      : qualifier.length > QUALIFIER_MAX
        ? `Member must have length less than or equal to ${QUALIFIER_MAX}`
        : !URL_QUALIFIER.test(qualifier)
          ? `Member must satisfy regular expression pattern: ${URL_QUALIFIER_PATTERN}`
          : undefined;
  if (constraint) throw validationError(`1 validation error detected: Value '${qualifier}' at 'qualifier' failed to satisfy constraint: ${constraint}`);
}

/** Methods outside the set AWS knows, named as its model's list constraint would. */
export function checkCorsMethods(cors: Cors | undefined): void {
  const unknown = (cors?.AllowMethods ?? []).filter((m) => !(CORS_METHODS as readonly string[]).includes(m.toUpperCase()));
  if (unknown.length > 0) {
    throw validationError(
      `1 validation error detected: Value '[${unknown.join(", ")}]' at 'cors.allowMethods' failed to satisfy constraint: Member must satisfy enum value set: [${CORS_METHODS.join(", ")}]`,
    );
  }
}

const URL_ID_LENGTH = 32;
const URL_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
/** A url id as AWS's look: 32 lower-case letters and digits, random. */
export const URL_ID = /^[a-z0-9]{32}$/;

export function newUrlId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(URL_ID_LENGTH));
  // 256 % 36 leaves a slight bias towards the first letters: harmless for an unguessable id of 165 bits.
  return Array.from(bytes, (b) => URL_ID_ALPHABET[b % URL_ID_ALPHABET.length]).join("");
}

/** Where a URL is served: `<scheme>://<url-id>.lambda-url.<region>.<domain>[:port]/`, scheme and port those the API was reached on. */
export function functionUrlOf(urlId: string, region: string, domain: string, apiUrl: URL): string {
  const port = apiUrl.port === "" ? "" : `:${apiUrl.port}`;
  return `${apiUrl.protocol}//${urlId}.lambda-url.${region}.${domain}${port}/`;
}

export interface UrlContext extends NameContext {
  domain: string;
  apiUrl: URL;
}

/** FunctionUrlConfig as Get / Update / List answer it (Create drops LastModifiedTime, see `createAnswer`). */
export function urlConfiguration(row: FunctionUrlRow, ctx: UrlContext): Record<string, unknown> {
  return {
    FunctionUrl: functionUrlOf(row.urlId, ctx.region, ctx.domain, ctx.apiUrl),
    FunctionArn: functionArn(ctx, row.functionName, row.qualifier === "" ? undefined : row.qualifier),
    AuthType: row.authType,
    ...(row.cors ? { Cors: row.cors } : {}),
    CreationTime: row.creationTime,
    LastModifiedTime: row.lastModifiedTime,
    InvokeMode: row.invokeMode,
  };
}

/**
 * CreateFunctionUrlConfig's answer: no LastModifiedTime, and InvokeMode only
 * when the request gave one (AWS's recorded answers, LocalStack's
 * test_lambda_api TestLambdaUrl and test_lambda TestLambdaURL snapshots).
 */
export function createAnswer(row: FunctionUrlRow, ctx: UrlContext, invokeModeGiven: boolean): Record<string, unknown> {
  const { LastModifiedTime: _, InvokeMode, ...rest } = urlConfiguration(row, ctx);
  return invokeModeGiven ? { ...rest, InvokeMode } : rest;
}

/**
 * UpdateFunctionUrlConfig's answer: InvokeMode is left out while it is the
 * default nobody asked for (AWS's recorded answers: an AuthType-only update
 * of a URL created without InvokeMode has none; one after RESPONSE_STREAM has it).
 */
export function updateAnswer(row: FunctionUrlRow, ctx: UrlContext, invokeModeGiven: boolean): Record<string, unknown> {
  const { InvokeMode, ...rest } = urlConfiguration(row, ctx);
  return invokeModeGiven || InvokeMode !== "BUFFERED" ? { ...rest, InvokeMode } : rest;
}
