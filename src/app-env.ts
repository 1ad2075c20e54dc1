import type { Principal } from "./auth/principal";
import type { TenantScope } from "./services/scope";

/** Hono typing shared by every route module. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    /** Set by the tenant auth middleware on Lambda API routes. */
    principal: Principal;
    /** The caller's tenant scope (stores, names, env), built once by the same middleware. */
    scope: TenantScope;
  };
};
