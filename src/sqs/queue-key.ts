/** The Durable Object name of a tenant's queue (and of its directory). */
export const queueKey = (tenantId: string, name: string) => `${tenantId}/${name}`;
