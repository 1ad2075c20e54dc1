import type { MovedMessage } from "./types";

/** A stored message row. Times are epoch milliseconds. */
export interface MessageRow {
  seq: number;
  id: string;
  body: string;
  attributes: string;
  system_attributes: string;
  md5_body: string;
  md5_attributes: string | null;
  sender_id: string;
  sent_at: number;
  visible_at: number;
  expires_at: number;
  receive_count: number;
  first_receive_at: number | null;
  receive_id: string | null;
  group_id: string | null;
  dedup_id: string | null;
  sequence: string | null;
  dlq_source_arn: string | null;
  [key: string]: SqlStorageValue;
}

/**
 * The messages of one queue in the Durable Object's SQLite. Visibility is a
 * column (`visible_at`) with an index, so "what can be received now" is one
 * range read; in flight = received and not yet visible, delayed = never
 * received and not yet visible.
 */
export class MessageStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Idempotent; run in the object's blockConcurrencyWhile before any call. */
  createSchema(): void {
    const sql = this.#sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS messages (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      body TEXT NOT NULL,
      attributes TEXT NOT NULL,
      system_attributes TEXT NOT NULL,
      md5_body TEXT NOT NULL,
      md5_attributes TEXT,
      sender_id TEXT NOT NULL,
      sent_at INTEGER NOT NULL,
      visible_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      receive_count INTEGER NOT NULL DEFAULT 0,
      first_receive_at INTEGER,
      receive_id TEXT,
      group_id TEXT,
      dedup_id TEXT,
      sequence TEXT,
      dlq_source_arn TEXT)`);
    sql.exec("CREATE INDEX IF NOT EXISTS messages_by_visibility ON messages (visible_at, seq)");
    sql.exec("CREATE INDEX IF NOT EXISTS messages_by_group ON messages (group_id, seq)");
    sql.exec("CREATE INDEX IF NOT EXISTS messages_by_expiry ON messages (expires_at)");
    sql.exec("CREATE TABLE IF NOT EXISTS dedup (key TEXT PRIMARY KEY, message_id TEXT NOT NULL, sequence TEXT, expires_at INTEGER NOT NULL)");
  }

  insert(row: Omit<MessageRow, "seq" | "receive_id" | "first_receive_at" | "sequence">, fifo: boolean): { seq: number; sequence: string | null } {
    const inserted = this.#sql
      .exec<{ seq: number }>(
        `INSERT INTO messages (id, body, attributes, system_attributes, md5_body, md5_attributes, sender_id, sent_at, visible_at, expires_at,
           receive_count, group_id, dedup_id, dlq_source_arn) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING seq`,
        row.id, row.body, row.attributes, row.system_attributes, row.md5_body, row.md5_attributes, row.sender_id, row.sent_at,
        row.visible_at, row.expires_at, row.receive_count, row.group_id, row.dedup_id, row.dlq_source_arn,
      )
      .one();
    const sequence = fifo ? String(inserted.seq).padStart(20, "0") : null;
    if (sequence) this.#sql.exec("UPDATE messages SET sequence = ? WHERE seq = ?", sequence, inserted.seq);
    return { seq: inserted.seq, sequence };
  }

  /** Standard queue: the oldest visible messages. */
  visible(now: number, limit: number): MessageRow[] {
    return this.#sql.exec<MessageRow>("SELECT * FROM messages WHERE visible_at <= ? ORDER BY visible_at, seq LIMIT ?", now, limit).toArray();
  }

  /**
   * FIFO queue: visible messages whose group has nothing in flight and no
   * earlier message still invisible, in sequence order (so a group's messages
   * come out in the order they were sent and never two receives at once).
   */
  visibleInOrder(now: number, limit: number): MessageRow[] {
    return this.#sql
      .exec<MessageRow>(
        `SELECT * FROM messages m WHERE m.visible_at <= ?1 AND NOT EXISTS (
           SELECT 1 FROM messages p WHERE p.group_id = m.group_id AND p.visible_at > ?1 AND (p.seq < m.seq OR p.receive_count > 0))
         ORDER BY m.seq LIMIT ?2`,
        now,
        limit,
      )
      .toArray();
  }

  byId(id: string): MessageRow | undefined {
    return this.#sql.exec<MessageRow>("SELECT * FROM messages WHERE id = ?", id).toArray()[0];
  }

  markReceived(seq: number, now: number, visibleAt: number, receiveId: string): void {
    this.#sql.exec(
      "UPDATE messages SET receive_count = receive_count + 1, first_receive_at = COALESCE(first_receive_at, ?), visible_at = ?, receive_id = ? WHERE seq = ?",
      now, visibleAt, receiveId, seq,
    );
  }

  setVisibleAt(seq: number, visibleAt: number): void {
    this.#sql.exec("UPDATE messages SET visible_at = ? WHERE seq = ?", visibleAt, seq);
  }

  delete(seq: number): void {
    this.#sql.exec("DELETE FROM messages WHERE seq = ?", seq);
  }

  deleteAll(): void {
    this.#sql.exec("DELETE FROM messages");
    this.#sql.exec("DELETE FROM dedup");
  }

  /** Drops messages past their retention period and dedup entries past their window. */
  expire(now: number): void {
    this.#sql.exec("DELETE FROM messages WHERE expires_at <= ?", now);
    this.#sql.exec("DELETE FROM dedup WHERE expires_at <= ?", now);
  }

  nextExpiry(): number | null {
    const row = this.#sql.exec<{ at: number | null }>("SELECT MIN(expires_at) AS at FROM messages").one();
    return row.at;
  }

  /** The earliest time something invisible becomes visible (long polls re-check then). */
  nextVisibleAfter(now: number): number | null {
    const row = this.#sql.exec<{ at: number | null }>("SELECT MIN(visible_at) AS at FROM messages WHERE visible_at > ?", now).one();
    return row.at;
  }

  counts(now: number): { visible: number; inFlight: number; delayed: number } {
    return this.#sql
      .exec<{ visible: number; inFlight: number; delayed: number }>(
        `SELECT COALESCE(SUM(visible_at <= ?1), 0) AS visible,
                COALESCE(SUM(visible_at > ?1 AND receive_count > 0), 0) AS inFlight,
                COALESCE(SUM(visible_at > ?1 AND receive_count = 0), 0) AS delayed FROM messages`,
        now,
      )
      .one();
  }

  dedupLookup(key: string, now: number): { message_id: string; sequence: string | null } | undefined {
    return this.#sql
      .exec<{ message_id: string; sequence: string | null }>("SELECT message_id, sequence FROM dedup WHERE key = ? AND expires_at > ?", key, now)
      .toArray()[0];
  }

  dedupRemember(key: string, messageId: string, sequence: string | null, expiresAt: number): void {
    this.#sql.exec("INSERT OR REPLACE INTO dedup (key, message_id, sequence, expires_at) VALUES (?,?,?,?)", key, messageId, sequence, expiresAt);
  }

  /** Visible messages with seq up to `maxSeq`, oldest first, for a move task. */
  movable(now: number, maxSeq: number, limit: number): MessageRow[] {
    return this.#sql.exec<MessageRow>("SELECT * FROM messages WHERE visible_at <= ? AND seq <= ? ORDER BY seq LIMIT ?", now, maxSeq, limit).toArray();
  }

  maxSeq(): number {
    return this.#sql.exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM messages").one().s ?? 0;
  }

  countUpTo(maxSeq: number): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages WHERE seq <= ?", maxSeq).one().n;
  }
}

export function toMoved(row: MessageRow, deadLetterSourceArn: string | null, keepReceiveCount: boolean): MovedMessage {
  return {
    messageId: row.id,
    body: row.body,
    attributes: row.attributes,
    systemAttributes: row.system_attributes,
    md5OfBody: row.md5_body,
    md5OfAttributes: row.md5_attributes,
    senderId: row.sender_id,
    sentAt: row.sent_at,
    receiveCount: keepReceiveCount ? row.receive_count : 0,
    groupId: row.group_id,
    dedupId: row.dedup_id,
    deadLetterSourceArn,
  };
}
