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

/** The LambdaError an async `fn` rejects with (anything else, or none, fails the test). */
export async function thrownAsync(fn: () => Promise<unknown>): Promise<LambdaError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof LambdaError) return err;
    throw err;
  }
  throw new Error("expected a LambdaError");
}
