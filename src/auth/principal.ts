/** Who is calling a Lambda API route: one tenant, through one of its keys. */
export interface Principal {
  tenantId: string;
  accountId: string;
  accessKeyId: string;
  scope: "full" | "invoke";
  concurrencyLimit: number;
  /** Control-plane requests a second per API (src/lambda/quotas.ts apiRateRule). */
  apiRequestRate: number;
  cell: number;
}
