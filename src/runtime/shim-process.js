// @ts-check
/**
 * The process-level parts of the Lambda contract the runtime shim (shim.js)
 * keeps per invocation: the variables that change between invocations, and
 * process.exit().
 */

/**
 * `_X_AMZN_TRACE_ID` (new every invocation, as Lambda sets it) and the
 * environment's session credentials (re-minted before they expire; see
 * src/auth/session-credentials.ts). AWS_CREDENTIAL_EXPIRATION lets the SDK v3
 * env provider know when to read process.env again.
 */
export function applyInvocationVariables(request) {
  if (request.traceId) process.env._X_AMZN_TRACE_ID = request.traceId;
  const credentials = request.credentials;
  if (credentials) {
    process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
    process.env.AWS_SESSION_TOKEN = credentials.sessionToken;
    process.env.AWS_CREDENTIAL_EXPIRATION = credentials.expiration;
  }
}

/** Thrown by process.exit() to unwind the caller: in Node nothing after process.exit() runs. */
export class ProcessExit extends Error {
  /** @param {number} status */
  constructor(status) {
    super(`process.exit(${status})`);
    this.status = status;
  }
}

/**
 * process.exit(n) ends Lambda's runtime process: the invocation fails with
 * Runtime.ExitError ("exit status n"). `onExit(code)` fails the running
 * invocation and retires the environment.
 */
export function interceptExit(onExit) {
  const exit = (code) => {
    const status = Number(code ?? process.exitCode ?? 0) || 0;
    onExit(status);
    throw new ProcessExit(status);
  };
  Object.defineProperty(process, "exit", { value: exit, writable: true, configurable: true });
}

/** The error message Lambda gives a runtime that exited with `status`. */
export function exitMessage(requestId, status) {
  return status === 0
    ? `RequestId: ${requestId} Error: Runtime exited without providing a reason`
    : `RequestId: ${requestId} Error: Runtime exited with error: exit status ${status}`;
}
