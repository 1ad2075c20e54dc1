/** Who is calling a Lambda API route: one tenant, through one of its keys. */
export interface Principal {
  tenantId: string;
  accountId: string;
  accessKeyId: string;
  scope: "full" | "invoke";
  concurrencyLimit: number;
  cell: number;
}
