import type { AppEnv } from "../app-env";
import type { ConsoleSession } from "./session";

/** Hono typing of the console's routes: the app's, plus the signed-in session (null when signed out). */
export type ConsoleEnv = {
  Bindings: Env;
  Variables: AppEnv["Variables"] & { session: ConsoleSession | null };
};
