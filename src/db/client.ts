import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Database = ReturnType<typeof database>;

function connect(d1: D1Database) {
  return drizzle(d1, { schema });
}

/**
 * Building drizzle's relational query API walks the whole schema, so the
 * instance is kept per D1 binding (the binding object lives as long as the
 * isolate) instead of being built on every request.
 */
const instances = new WeakMap<D1Database, ReturnType<typeof connect>>();

export function database(d1: D1Database) {
  let db = instances.get(d1);
  if (!db) instances.set(d1, (db = connect(d1)));
  return db;
}
