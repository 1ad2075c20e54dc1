// @ts-check
/**
 * What the runtime shim (shim.js) makes of a handler and its outcome, as
 * Lambda's Node.js runtime interface client does: its errors and the Invoke
 * error payload, the handler's property path, calling a promise or callback
 * handler, and the serialised response with its size limit. No module state:
 * the shim hands in what it owns (its event-loop watch).
 */

/** Lambda's response payload limit (bytes), as the runtime checks it. */
export const MAX_RESPONSE_BYTES = 6291556;

// ---- Errors, as the runtime reports and logs them.
export function runtimeError(type, message, stack) {
  const error = new (class extends Error {})(message);
  Object.defineProperty(error, "name", { value: type, writable: true, configurable: true });
  error.stack = type + ": " + message + (stack ? "\n" + stack.split("\n").slice(1).join("\n") : "");
  return error;
}
// eval() and new Function() throw EvalError in a function's isolate (src/code/eval-free.ts
// says why); what escapes to the runtime is reported as that, with the eval-free way out.
const CODE_GENERATION = "Runtime.CodeGenerationFromStringsNotAllowed";
const CODE_GENERATION_HELP =
  "eval() and new Function() are not supported: a function runs in a V8 isolate that does not compile code from strings " +
  "(EvalError: Code generation from strings disallowed for this context). Use the library's eval-free form: " +
  "Ajv: standalone validation code generated at build time (ajv/dist/standalone; for @middy/validator, pass that validator as eventSchema); " +
  "Handlebars: templates precompiled at build time, run with handlebars/runtime; lodash.template, ejs, pug: precompiled templates.";
export function explainCodeGeneration(error) {
  if (!(error instanceof EvalError) || !/Code generation from strings disallowed/.test(error.message)) return error;
  return runtimeError(CODE_GENERATION, CODE_GENERATION_HELP, error.stack);
}
// The Invoke response body: { errorType, errorMessage, trace }.
export function errorPayload(error) {
  try {
    if (error instanceof Error) {
      return { errorType: error.name, errorMessage: error.message, trace: typeof error.stack === "string" ? error.stack.split("\n") : [] };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return { errorType: "handled", errorMessage: "callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack", trace: [] };
  }
}
// "src/app.handlers.main" → ["handlers", "main"] (UserFunction.js).
export function propertyPath(handler) {
  const base = handler.slice(handler.lastIndexOf("/") + 1);
  return base.slice(base.indexOf(".") + 1).split(".");
}

// ---- Calling the handler.
// nodejs24.x: the handler's return value (or promise) is the result.
export async function runPromise(fn, event, context) {
  return { result: await fn(event, context) };
}

// nodejs20.x/22.x (CallbackContext.js): callback, succeed/fail/done, or a
// returned promise; only the first completion counts. The context starts with
// the callback members, then the invocation's fields, in the runtime's order.
export function callbackRunner(emptyEventLoop) {
  return (fn, event, fields) => new Promise((resolve) => {
    let finished = false;
    let waitForEmpty = true;
    const once = (f) => (...args) => { if (!finished) { finished = true; f(...args); } };
    const done = (err, result) => resolve(err !== undefined && err !== null ? { error: err } : { result });
    const callback = once((err, result) => {
      if (err !== undefined && err !== null) resolve({ error: err });
      else if (!waitForEmpty) resolve({ result });
      else emptyEventLoop().then(() => resolve({ result }));
    });
    const context = {};
    Object.defineProperty(context, "callbackWaitsForEmptyEventLoop", {
      get: () => waitForEmpty, set: (v) => { waitForEmpty = v; }, enumerable: true,
    });
    context.succeed = once((result) => done(null, result));
    context.fail = once((err) => done(err === undefined || err === null ? "handled" : err, null));
    context.done = once(done);
    Object.assign(context, fields);
    try {
      const returned = fn(event, context, callback);
      if (returned && typeof returned.then === "function") {
        returned.then(context.succeed, context.fail);
      } else if (fn.length < 3) {
        // A plain function that returned: the runtime answers null once the
        // event loop is empty, unless succeed/fail/done came first.
        emptyEventLoop().then(once(() => resolve({ result: null })));
      }
    } catch (error) {
      callback(error);
    }
  });
}

/**
 * nodejs20.x/22.x's callback-style call, bound to the shim's `emptyEventLoop`
 * (resolves once no timer or fetch of the invocation is pending).
 */
export function serialize(result) {
  try {
    return { payload: JSON.stringify(result === undefined ? null : result) ?? "null" };
  } catch {
    return { error: runtimeError("Runtime.JSONStringifyError", "Unable to stringify response body") };
  }
}

export function tooLarge(payload) {
  return payload.length > MAX_RESPONSE_BYTES / 3 && new TextEncoder().encode(payload).byteLength > MAX_RESPONSE_BYTES;
}
