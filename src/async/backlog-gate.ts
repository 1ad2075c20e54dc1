/**
 * The poller's side of backlog slots (src/async/backlog.ts): an old event of
 * a function claims one from its cell's QueueManager before it runs and gives
 * it back after, so the backlog never holds more than `backlogSlots` of the
 * function's concurrency.
 */
import { backlogSlots } from "./backlog";
import type { AsyncEventMessage } from "./messages";
import { QueueManager } from "./queue-manager";

/** A backlog slot for one old event: `claim` with the function's reserved concurrency, `release` after the run. */
export interface BacklogGate {
  claim(reservedConcurrency: number | null): Promise<boolean>;
  release(): Promise<void>;
}

export function backlogGate(env: Env, cell: number, message: AsyncEventMessage): BacklogGate {
  const manager = QueueManager.ofCell(env, cell);
  const fn = `${message.tenantId}/${message.functionName}`;
  return {
    claim: (reserved) => manager.claimBacklogSlot(fn, backlogSlots(reserved)),
    release: async () => {
      try {
        await manager.releaseBacklogSlot(fn);
      } catch (err) {
        // The slot's lease runs out by itself (BACKLOG_SLOT_LEASE_MS).
        console.error(`poller: could not give back the backlog slot of ${fn}`, err);
      }
    },
  };
}
