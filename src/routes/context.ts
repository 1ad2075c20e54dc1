import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import type { FunctionRef } from "../lambda/function-name";
import type { Defer } from "../services/deploy";
import { parseFunctionName } from "../lambda/function-name";
import { listQuerySchema } from "../lambda/schemas";
import { parseValue } from "../lambda/validation";
import { requestEntityTooLarge, unqualifiedFunctionOnly } from "../errors";

/** Route-level helpers shared by the Lambda API areas. */

/** `{FunctionName}` with an optional `Qualifier` query parameter (Get*, Delete, Invoke). */
export function qualifiedRef(c: Context<AppEnv>, opts: { otherAccounts?: boolean } = {}): FunctionRef {
  return parseFunctionName(c.req.param("FunctionName") ?? "", namesOf(c), {
    qualified: true,
    qualifierParam: c.req.query("Qualifier"),
    ...opts,
  });
}

/** `{FunctionName}` for operations that take no qualifier (Update*, Publish, aliases, concurrency). */
export function functionNameOf(c: Context<AppEnv>): string {
  return parseFunctionName(c.req.param("FunctionName") ?? "", namesOf(c), { qualified: false }).name;
}

/** `{FunctionName}` where a version or alias in it is refused in words, not by the pattern (PutFunctionConcurrency, as AWS answers it). */
export function functionItselfOf(c: Context<AppEnv>): string {
  const ref = parseFunctionName(c.req.param("FunctionName") ?? "", namesOf(c), { qualified: true });
  if (ref.qualifier !== undefined) throw unqualifiedFunctionOnly();
  return ref.name;
}

export function listQuery(c: Context<AppEnv>): { marker: string | undefined; maxItems: number | undefined } {
  const q = parseValue(listQuerySchema, { Marker: c.req.query("Marker"), MaxItems: c.req.query("MaxItems") });
  return { marker: q.Marker, maxItems: q.MaxItems };
}

function namesOf(c: Context<AppEnv>) {
  return { accountId: c.get("principal").accountId, region: c.env.REGION };
}

/** Work to finish after the response (bundling after CreateFunction / Update*): ExecutionContext.waitUntil. */
export function deferOf(c: Context<AppEnv>): Defer {
  return (work) => c.executionCtx.waitUntil(work);
}

/** Lambda's limit on a whole control-plane request carrying code (lambda-api-notes.md, size limits). */
export const CODE_REQUEST_MAX_BYTES = 70_167_211;

/**
 * The body of a request that carries a .zip (CreateFunction, UpdateFunctionCode,
 * PublishLayerVersion), refused with AWS's 413 when the whole request is over
 * 70,167,211 bytes, before anything in it is parsed (the 50 MB zipped limit
 * is checked after, on the decoded Code.ZipFile).
 */
export async function codeRequestBody(c: Context<AppEnv>, operation: string): Promise<string> {
  const tooLarge = () => requestEntityTooLarge(`Request must be smaller than ${CODE_REQUEST_MAX_BYTES} bytes for the ${operation} operation`);
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > CODE_REQUEST_MAX_BYTES) throw tooLarge();
  const text = await c.req.text();
  // A body sent without a length: JSON with base64 is ASCII, so characters count bytes.
  if (text.length > CODE_REQUEST_MAX_BYTES) throw tooLarge();
  return text;
}
