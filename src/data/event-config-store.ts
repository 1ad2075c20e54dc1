import { and, asc, eq, gt } from "drizzle-orm";
import type { Database } from "../db/client";
import { eventInvokeConfigs } from "../db/schema";

export type EventInvokeConfigRow = typeof eventInvokeConfigs.$inferSelect;
/** What a write sets: everything but the keys. `null` means unset. */
export type EventInvokeConfigValues = Omit<EventInvokeConfigRow, "tenantId" | "functionName" | "qualifier">;

/**
 * The tenant-scoped data access for asynchronous invocation settings
 * (`event_invoke_configs`, one row per function + qualifier, `$LATEST` for
 * unqualified). Every query carries `tenant_id = this.tenantId`; nothing else
 * in the app reads this table.
 */
export class EventConfigStore {
  constructor(
    private readonly db: Database,
    readonly tenantId: string,
  ) {}

  async get(name: string, qualifier: string): Promise<EventInvokeConfigRow | undefined> {
    return this.db.query.eventInvokeConfigs.findFirst({ where: this.#one(name, qualifier) });
  }

  /** Configs of one function ordered by qualifier, after `afterQualifier`. */
  async list(name: string, afterQualifier: string | undefined, limit: number): Promise<EventInvokeConfigRow[]> {
    return this.db.query.eventInvokeConfigs.findMany({
      where: and(this.#of(name), afterQualifier === undefined ? undefined : gt(eventInvokeConfigs.qualifier, afterQualifier)),
      orderBy: asc(eventInvokeConfigs.qualifier),
      limit,
    });
  }

  /** Creates or replaces the config of `name:qualifier` (PutFunctionEventInvokeConfig). */
  async put(name: string, qualifier: string, values: EventInvokeConfigValues): Promise<void> {
    await this.db
      .insert(eventInvokeConfigs)
      .values({ ...values, tenantId: this.tenantId, functionName: name, qualifier })
      .onConflictDoUpdate({
        target: [eventInvokeConfigs.tenantId, eventInvokeConfigs.functionName, eventInvokeConfigs.qualifier],
        set: values,
      });
  }

  /**
   * Replaces the config if it is still the one last modified at
   * `expectedLastModified`; false when it changed or went away meanwhile.
   */
  async replace(name: string, qualifier: string, expectedLastModified: number, values: EventInvokeConfigValues): Promise<boolean> {
    const result = await this.db
      .update(eventInvokeConfigs)
      .set(values)
      .where(and(this.#one(name, qualifier), eq(eventInvokeConfigs.lastModified, expectedLastModified)))
      .run();
    return result.meta.changes === 1;
  }

  /** Deletes one config; false when there was none. */
  async delete(name: string, qualifier: string): Promise<boolean> {
    const result = await this.db.delete(eventInvokeConfigs).where(this.#one(name, qualifier)).run();
    return result.meta.changes > 0;
  }

  /** Deletes every config of a function (DeleteFunction). */
  async deleteAll(name: string): Promise<void> {
    await this.db.delete(eventInvokeConfigs).where(this.#of(name));
  }

  #of(name: string) {
    return and(eq(eventInvokeConfigs.tenantId, this.tenantId), eq(eventInvokeConfigs.functionName, name));
  }

  #one(name: string, qualifier: string) {
    return and(this.#of(name), eq(eventInvokeConfigs.qualifier, qualifier));
  }
}

/**
 * Removes the event invoke configs of a function that is being deleted: all
 * of them, or only the one of `qualifier` (a deleted version or alias), so a
 * function created later under the same name does not inherit them.
 */
export async function deleteEventInvokeConfigs(db: Database, tenantId: string, name: string, qualifier?: string): Promise<void> {
  const store = new EventConfigStore(db, tenantId);
  if (qualifier === undefined) await store.deleteAll(name);
  else await store.delete(name, qualifier);
}
