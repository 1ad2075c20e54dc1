/**
 * Runs one accepted event in a request context of its own.
 *
 * A queue consumer batch is one request context, and a context may have only
 * about 4 distinct Dynamic Workers in flight (docs/ARCHITECTURE.md, "Limits of the
 * Worker Loader"). The poller calls this entrypoint through the Worker's
 * loopback binding (`exports.EventRunner`, no wrangler.toml entry needed), so
 * every event gets its own context and a batch runs all its events at once,
 * as Lambda runs a function's async events side by side up to its
 * concurrency.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { database } from "../db/client";
import type { QueueSource } from "./batch-context";
import { DepthReport } from "./batch-context";
import { processEvent } from "./process-event";
import type { AsyncEventMessage } from "./messages";

export class EventRunner extends WorkerEntrypoint<Env> {
  /** Processes the event; returns the messages it put on queues (retries, moves, destinations) by queue, for the batch's depth report. */
  async run(message: AsyncEventMessage, source: QueueSource): Promise<Record<string, number>> {
    const report = new DepthReport();
    await processEvent(message, { env: this.env, ctx: this.ctx, source, report, db: database(this.env.DB) });
    return Object.fromEntries(report.added);
  }
}
