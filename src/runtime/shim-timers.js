// @ts-check
/**
 * Timers with Lambda's freeze/thaw semantics. In Lambda the process is
 * frozen once the response is sent: a timer still pending then fires when
 * the environment is thawed for its next invocation (at once if it is
 * overdue), inside that invocation. workerd instead drops the timers of a
 * request that has ended, so every timer is remembered here and, at the
 * start of the next invocation, those of an earlier one are armed again.
 *
 * The user gets a Node-style Timeout (ref/unref/hasRef/refresh, a number
 * when coerced), valid across re-arming: clearTimeout works on it or its number.
 */

class Timeout {
  #id;
  #refresh;
  constructor(id, refresh) { this.#id = id; this.#refresh = refresh; }
  ref() { return this; }
  unref() { return this; }
  hasRef() { return true; }
  refresh() { this.#refresh(); return this; }
  [Symbol.toPrimitive]() { return this.#id; }
}

/**
 * @param {{ setTimeout: typeof setTimeout, clearTimeout: typeof clearTimeout }} platform the unwrapped timer functions
 * @param {(fn: unknown, args: unknown[]) => void} call runs a callback (reports what it throws)
 * @param {() => void} settled called when a timer is cleared or has fired (pending work may be done)
 */
export function installTimers(platform, call, settled) {
  /** @type {Map<unknown, { fn: unknown, args: unknown[], due: number, every: number | undefined, handle: unknown, generation: number }>} */
  const timers = new Map();
  let generation = 0; // one per invocation: timers armed in an earlier one were dropped by workerd
  let lastId = 0;

  function fire(id, entry) {
    if (timers.get(id) !== entry) return;
    if (entry.every === undefined) {
      timers.delete(id);
      settled();
    } else {
      entry.due = Date.now() + entry.every;
      arm(id, entry);
    }
    call(entry.fn, entry.args);
  }
  function arm(id, entry) {
    entry.generation = generation;
    entry.handle = platform.setTimeout(() => fire(id, entry), Math.max(0, entry.due - Date.now()));
  }
  function start(fn, ms, args, every) {
    const delay = Math.max(0, Number(ms) || 0);
    const id = ++lastId;
    const entry = { fn, args, due: Date.now() + delay, every: every ? Math.max(1, delay) : undefined, handle: undefined, generation };
    timers.set(id, entry);
    arm(id, entry);
    return new Timeout(id, () => {
      if (timers.get(id) !== entry) return;
      platform.clearTimeout(/** @type {number} */ (/** @type {unknown} */ (entry.handle)));
      entry.due = Date.now() + delay;
      arm(id, entry);
    });
  }
  function clear(timeout) {
    const id = typeof timeout === "object" && timeout !== null ? Number(timeout) : timeout;
    const entry = timers.get(id);
    if (!entry) return;
    timers.delete(id);
    platform.clearTimeout(/** @type {number} */ (/** @type {unknown} */ (entry.handle)));
    settled();
  }
  globalThis.setTimeout = /** @type {typeof setTimeout} */ (/** @type {unknown} */ ((fn, ms, ...args) => start(fn, ms, args, false)));
  globalThis.setInterval = /** @type {typeof setInterval} */ (/** @type {unknown} */ ((fn, ms, ...args) => start(fn, ms, args, true)));
  globalThis.clearTimeout = clear;
  globalThis.clearInterval = clear;

  return {
    /** Timers not yet fired or cleared. */
    get pending() { return timers.size; },
    /** Called when an invocation starts: thaws what earlier invocations left pending; returns how many fired at once. */
    thaw() {
      generation++;
      const frozen = [...timers].filter(([, entry]) => entry.generation !== generation).sort(([, a], [, b]) => a.due - b.due);
      const now = Date.now();
      let fired = 0;
      for (const [id, entry] of frozen) {
        if (entry.due <= now) { fire(id, entry); fired++; } // overdue: fires now, before the handler
        else arm(id, entry);
      }
      return fired;
    },
  };
}
