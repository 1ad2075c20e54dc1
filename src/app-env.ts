import type { Principal } from "./auth/principal";

/** Hono typing shared by every route module. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    /** Set by the tenant auth middleware on Lambda API routes. */
    principal: Principal;
  };
};
