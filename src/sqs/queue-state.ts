import type { QueueSettings } from "./attributes";
import { rulesOf } from "./attributes";
import { invalidParameterValue, purgeQueueInProgress, queueDoesNotExist } from "./errors";
import { DEDUP_WINDOW_MS, checkFifoFields, dedupKey, deduplicationId } from "./fifo";
import { md5Hex, md5OfMessageAttributes } from "./md5";
import type { MessageRow, MessageStore } from "./message-store";
import { toMoved } from "./message-store";
import { receivedView } from "./message-view";
import type { QueueDescription, QueueIdentity } from "./queue-object";
import { parseQueueArn } from "./queue-ref";
import { changeVisibilityByHandles, deleteByHandles, eachEntry } from "./receipts";
import { encodeReceiptHandle } from "./receipt-handle";
import { shouldMoveToDeadLetter } from "./redrive";
import type { BatchOutcome, DeleteEntry, MovedMessage, ReceiveRequest, ReceivedMessage, SendEntry, SentMessage, VisibilityChange } from "./types";

/** PurgeQueue may run once per 60 seconds per queue (AWS). */
export const PURGE_INTERVAL_MS = 60_000;

type Deliver = (queueName: string, messages: MovedMessage[]) => Promise<boolean>;

/**
 * The rules of one queue over its SQLite tables: settings, tags, sends with
 * FIFO deduplication, receives with visibility, redrive and long polling,
 * deletes and visibility changes by receipt handle.
 */
export class QueueState {
  readonly store: MessageStore;
  readonly #sql: SqlStorage;
  readonly #deliver: Deliver;
  #queue: QueueDescription | null = null;
  #lastPurgeAt = 0;
  /** Long polls waiting for a message: woken by a send, a visibility change or deletion of the queue. */
  readonly #waiters = new Set<() => void>();

  constructor(sql: SqlStorage, store: MessageStore, deliver: Deliver) {
    this.#sql = sql;
    this.store = store;
    this.#deliver = deliver;
  }

  /** Creates the tables (idempotent) and loads the queue; run in the object's blockConcurrencyWhile. */
  load(): void {
    this.#sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    this.#sql.exec("CREATE TABLE IF NOT EXISTS tags (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    this.store.createSchema();
    const row = this.#sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'queue'").toArray()[0];
    this.#queue = row ? (JSON.parse(row.value) as QueueDescription) : null;
  }

  get description(): QueueDescription | null {
    return this.#queue;
  }

  require(): QueueDescription {
    if (!this.#queue) throw queueDoesNotExist();
    return this.#queue;
  }

  create(identity: QueueIdentity, settings: QueueSettings, tags: Record<string, string>): void {
    const now = Date.now();
    this.#queue = { ...identity, queueId: crypto.randomUUID(), settings };
    this.#sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('queue', ?)", JSON.stringify(this.#queue));
    this.#sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('created', ?), ('modified', ?)", String(now), String(now));
    for (const [k, v] of Object.entries(tags)) this.#sql.exec("INSERT OR REPLACE INTO tags (key, value) VALUES (?, ?)", k, v);
  }

  saveSettings(settings: QueueSettings): void {
    const queue = this.require();
    this.#queue = { ...queue, settings };
    this.#sql.exec("UPDATE meta SET value = ? WHERE key = 'queue'", JSON.stringify(this.#queue));
    this.#sql.exec("UPDATE meta SET value = ? WHERE key = 'modified'", String(Date.now()));
  }

  destroy(): void {
    this.#queue = null;
    this.#sql.exec("DELETE FROM meta");
    this.#sql.exec("DELETE FROM tags");
    this.store.deleteAll();
    this.wake();
  }

  attributes(now: number): Record<string, string> {
    const queue = this.require();
    this.store.expire(now);
    const counts = this.store.counts(now);
    const meta = (key: string) => this.#sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).one().value;
    const seconds = (ms: string) => String(Math.floor(Number(ms) / 1000));
    return {
      ...(queue.settings as unknown as Record<string, string>),
      QueueArn: queue.arn,
      ApproximateNumberOfMessages: String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
      CreatedTimestamp: seconds(meta("created")),
      LastModifiedTimestamp: seconds(meta("modified")),
    };
  }

  tags(): Record<string, string> {
    this.require();
    return Object.fromEntries(this.#sql.exec<{ key: string; value: string }>("SELECT key, value FROM tags ORDER BY key").toArray().map((r) => [r.key, r.value]));
  }

  tag(tags: Record<string, string>): null {
    this.require();
    const count = Object.keys({ ...this.tags(), ...tags }).length;
    if (count > 50) throw invalidParameterValue("Too many tags added for queue. A queue can have at most 50 tags.");
    for (const [k, v] of Object.entries(tags)) this.#sql.exec("INSERT OR REPLACE INTO tags (key, value) VALUES (?, ?)", k, v);
    return null;
  }

  untag(keys: string[]): null {
    this.require();
    for (const k of keys) this.#sql.exec("DELETE FROM tags WHERE key = ?", k);
    return null;
  }

  purge(now: number): null {
    const queue = this.require();
    if (now - this.#lastPurgeAt < PURGE_INTERVAL_MS) throw purgeQueueInProgress(queue.arn);
    this.#lastPurgeAt = now;
    this.store.deleteAll();
    return null;
  }

  wake(): void {
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  send(entries: SendEntry[], now: number, batch: boolean): BatchOutcome<SentMessage> {
    const queue = this.require();
    const settings = queue.settings;
    const fifo = settings.FifoQueue === "true";
    const maxBytes = Number(settings.MaximumMessageSize);
    const outcome = eachEntry(entries, batch, (entry) => this.#sendOne(entry, now, fifo, maxBytes, settings));
    if (outcome.successful.length > 0) this.wake();
    return outcome;
  }

  #sendOne(entry: SendEntry, now: number, fifo: boolean, maxBytes: number, settings: QueueSettings): SentMessage {
    const size = new TextEncoder().encode(entry.body).length + entry.attributeBytes;
    if (size > maxBytes) throw invalidParameterValue(`One or more parameters are invalid. Reason: Message must be shorter than ${maxBytes} bytes.`);
    checkFifoFields({ groupId: entry.groupId, dedupId: entry.dedupId }, fifo, settings.ContentBasedDeduplication === "true", entry.delaySeconds);
    const md5OfBody = md5Hex(entry.body);
    const md5OfAttributes = md5OfMessageAttributes(entry.attributes);
    const md5OfSystemAttributes = md5OfMessageAttributes(entry.systemAttributes);
    const digests = { md5OfBody, ...(md5OfAttributes ? { md5OfAttributes } : {}), ...(md5OfSystemAttributes ? { md5OfSystemAttributes } : {}) };
    let dedupId: string | null = null;
    let key = "";
    if (fifo) {
      dedupId = deduplicationId(entry.dedupId, entry.body);
      key = dedupKey(settings.DeduplicationScope, entry.groupId ?? "", dedupId);
      const earlier = this.store.dedupLookup(key, now);
      // A duplicate within the window is accepted and answered like the original, but not stored again.
      if (earlier) return { id: entry.id, messageId: earlier.message_id, ...digests, ...(earlier.sequence ? { sequenceNumber: earlier.sequence } : {}) };
    }
    const messageId = crypto.randomUUID();
    const delayMs = (entry.delaySeconds ?? Number(settings.DelaySeconds)) * 1000;
    const { sequence } = this.store.insert(
      {
        id: messageId,
        body: entry.body,
        attributes: JSON.stringify(entry.attributes),
        system_attributes: JSON.stringify(entry.systemAttributes),
        md5_body: md5OfBody,
        md5_attributes: md5OfAttributes ?? null,
        sender_id: entry.senderId,
        sent_at: now,
        visible_at: now + delayMs,
        expires_at: now + Number(settings.MessageRetentionPeriod) * 1000,
        receive_count: 0,
        group_id: entry.groupId ?? null,
        dedup_id: fifo ? dedupId : null,
        dlq_source_arn: null,
      },
      fifo,
    );
    if (fifo) this.store.dedupRemember(key, messageId, sequence, now + DEDUP_WINDOW_MS);
    return { id: entry.id, messageId, ...digests, ...(sequence ? { sequenceNumber: sequence } : {}) };
  }

  acceptMoved(messages: MovedMessage[], now: number): void {
    const queue = this.require();
    const fifo = queue.settings.FifoQueue === "true";
    for (const m of messages) {
      if (this.store.byId(m.messageId)) continue; // already here: a repeated hand-over after a crash
      this.store.insert(
        {
          id: m.messageId,
          body: m.body,
          attributes: m.attributes,
          system_attributes: m.systemAttributes,
          md5_body: m.md5OfBody,
          md5_attributes: m.md5OfAttributes,
          sender_id: m.senderId,
          sent_at: m.sentAt,
          visible_at: now,
          expires_at: m.sentAt + Number(queue.settings.MessageRetentionPeriod) * 1000,
          receive_count: m.receiveCount,
          group_id: m.groupId,
          dedup_id: fifo ? m.dedupId : null,
          dlq_source_arn: m.deadLetterSourceArn,
        },
        fifo,
      );
    }
    this.wake();
  }

  /** ReceiveMessage: takes what is visible now, or waits (long poll) until something is or the wait ends. */
  async receive(request: ReceiveRequest): Promise<ReceivedMessage[]> {
    const waitSeconds = request.waitSeconds ?? Number(this.require().settings.ReceiveMessageWaitTimeSeconds);
    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      const messages = await this.#take(request);
      const now = Date.now();
      if (messages.length > 0 || now >= deadline || !this.#queue) return messages;
      const nextVisible = this.store.nextVisibleAfter(now);
      await this.#waitUntil(Math.min(deadline, nextVisible ?? deadline));
    }
  }

  #waitUntil(at: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, at - Date.now()));
      this.#waiters.add(wake);
    });
  }

  async #take(request: ReceiveRequest): Promise<ReceivedMessage[]> {
    const queue = this.require();
    const now = Date.now();
    this.store.expire(now);
    const rules = rulesOf(queue.settings);
    const visibilityS = request.visibilityTimeout ?? Number(queue.settings.VisibilityTimeout);
    const candidates = rules.fifo ? this.store.visibleInOrder(now, request.maxMessages) : this.store.visible(now, request.maxMessages);
    const out: ReceivedMessage[] = [];
    const toDeadLetter: MessageRow[] = [];
    for (const row of candidates) {
      if (shouldMoveToDeadLetter(row.receive_count, rules.redrive)) {
        toDeadLetter.push(row);
        continue;
      }
      const receiveId = crypto.randomUUID();
      this.store.markReceived(row.seq, now, now + visibilityS * 1000, receiveId);
      const received = { ...row, receive_count: row.receive_count + 1, first_receive_at: row.first_receive_at ?? now };
      out.push(receivedView(received, encodeReceiptHandle({ queueId: queue.queueId, messageId: row.id, receiveId }), request));
    }
    if (toDeadLetter.length > 0 && rules.redrive) await this.#moveToDeadLetter(toDeadLetter, rules.redrive.deadLetterTargetArn, queue, now);
    return out;
  }

  /**
   * Redrive: the messages are hidden first (so no concurrent receive takes
   * them while the dead-letter queue is called), handed over, then deleted
   * here. A missing dead-letter queue leaves them where they are, as AWS does.
   */
  async #moveToDeadLetter(rows: MessageRow[], dlqArn: string, queue: QueueDescription, now: number): Promise<void> {
    const target = parseQueueArn(dlqArn);
    const HIDE_WHILE_MOVING_MS = 30_000;
    for (const row of rows) this.store.setVisibleAt(row.seq, now + HIDE_WHILE_MOVING_MS);
    const moved =
      target !== null && target.accountId === queue.accountId
        ? await this.#deliver(target.name, rows.map((r) => toMoved(r, queue.arn, true)))
        : false;
    for (const row of rows) {
      if (moved) this.store.delete(row.seq);
      else this.store.setVisibleAt(row.seq, now);
    }
    if (moved) console.log(`sqs: ${rows.length} message(s) of ${queue.arn} moved to ${dlqArn}`);
  }


  deleteMessages(entries: DeleteEntry[], now: number, batch: boolean): BatchOutcome<{ id: string }> {
    return deleteByHandles(this.store, this.require(), entries, now, batch);
  }

  changeVisibility(entries: VisibilityChange[], now: number, batch: boolean): BatchOutcome<{ id: string }> {
    const outcome = changeVisibilityByHandles(this.store, this.require(), entries, now, batch);
    if (outcome.successful.length > 0) this.wake();
    return outcome;
  }
}
