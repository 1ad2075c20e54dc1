/**
 * GetFunction's `Code.Location`: Lambda answers with a presigned S3 URL,
 * valid for 10 minutes, that downloads the function's .zip package without
 * credentials. cellfn's equivalent is `/cellfn/code/<hex sha256>.zip?Expires=
 * <unix seconds>&Signature=<hex HMAC-SHA256>`, signed with a key derived from
 * KEY_DERIVATION_SECRET: only GetFunction (which checked the caller's tenant)
 * can mint one, and nobody can change the package or the expiry it names.
 */
import { timingSafeEqualText } from "../auth/keys";
import { fromBase64, hmacSha256, toHex } from "../util/bytes";

export const DOWNLOAD_URL_TTL_SECONDS = 600;
/** Where the download route is mounted (src/app.ts). */
export const DOWNLOAD_MOUNT = "/cellfn/code";

async function signature(derivationSecret: string, packageHex: string, expires: number): Promise<string> {
  const key = await hmacSha256(derivationSecret, "cellfn-code-download");
  return toHex(await hmacSha256(key, `${packageHex}\n${expires}`));
}

export async function codeDownloadUrl(derivationSecret: string, origin: string, codeSha256: string, nowMs = Date.now()): Promise<string> {
  const packageHex = toHex(fromBase64(codeSha256));
  const expires = Math.floor(nowMs / 1000) + DOWNLOAD_URL_TTL_SECONDS;
  const sig = await signature(derivationSecret, packageHex, expires);
  return `${origin}${DOWNLOAD_MOUNT}/${packageHex}.zip?Expires=${expires}&Signature=${sig}`;
}

/** Why a download URL is refused, or null when it is valid now. */
export async function refuseDownload(
  derivationSecret: string,
  packageHex: string,
  expires: string | undefined,
  presented: string | undefined,
  nowMs = Date.now(),
): Promise<string | null> {
  const expiresAt = Number(expires);
  if (!/^[0-9a-f]{64}$/.test(packageHex) || !expires || !Number.isSafeInteger(expiresAt) || !presented) {
    return "The code download URL is not valid: call GetFunction for a fresh Code.Location.";
  }
  const expected = await signature(derivationSecret, packageHex, expiresAt);
  if (!timingSafeEqualText(expected, presented.toLowerCase())) {
    return "The code download URL's signature does not match: call GetFunction for a fresh Code.Location.";
  }
  if (expiresAt * 1000 < nowMs) return "The code download URL has expired (they last 10 minutes): call GetFunction for a fresh Code.Location.";
  return null;
}
