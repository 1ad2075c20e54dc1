import { LambdaError } from "../../src/errors";

/** The LambdaError `fn` throws (anything else, or nothing, fails the test). */
export function thrownLambdaError(fn: () => unknown): LambdaError {
  try {
    fn();
  } catch (err) {
    if (err instanceof LambdaError) return err;
    throw err;
  }
  throw new Error("expected a LambdaError");
}
