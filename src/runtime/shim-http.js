// @ts-check
/**
 * node:http's ServerResponse with a socket, as the Lambda HTTP adapters use
 * it. serverless-http and @codegenie/serverless-express build a
 * ServerResponse, assignSocket() it a stand-in socket and collect what Node
 * writes to that socket (the status line, headers and body) to build the
 * Lambda response. workerd's ServerResponse (enable_nodejs_http_server_modules)
 * is built on fetch() and refuses assignSocket(); this gives it Node's
 * behaviour (lib/_http_server.js, lib/_http_outgoing.js): once a socket is
 * assigned, the message's raw output goes to socket.write(). A response with
 * no socket (http.createServer) keeps workerd's fetch-based path.
 *
 * Likewise `new http.IncomingMessage(socket)` keeps the socket it is given
 * (Node: `this.socket = socket`), which the adapters' requests rely on: koa
 * reads `req.socket.encrypted`, express's finalhandler listens on it.
 */
import http from "node:http";

const SOCKET = Symbol("cellfn.socket");

/**
 * @typedef {{ write(data: unknown, encoding?: unknown, callback?: unknown): boolean; cork?: () => void; uncork?: () => void;
 *   writable?: boolean; destroyed?: boolean; _httpMessage?: unknown; on?: (event: string, listener: () => void) => unknown }} AssignedSocket
 */
/**
 * The fields of Node's OutgoingMessage this relies on (workerd's keeps Node's names).
 * @typedef {{ [key: symbol]: AssignedSocket | null | undefined; emit(event: string, value: unknown): boolean; finished: boolean;
 *   outputData: { data: string | Uint8Array; encoding: unknown; callback: unknown }[]; outputSize: number;
 *   _onPendingData(size: number): void; _finish(): void; _flush(): void }} Message
 */

export function installSocketAssignment() {
  const proto = /** @type {{ _writeRaw?: Function; _flush?: Function } | undefined} */ (/** @type {unknown} */ (http.ServerResponse?.prototype));
  const fetchWriteRaw = proto?._writeRaw;
  const fetchFlush = proto?._flush;
  if (proto === undefined || fetchWriteRaw === undefined || fetchFlush === undefined) return;
  /** @param {Message} message @param {AssignedSocket} socket */
  const flushTo = (message, socket) => {
    if (message.outputData.length === 0) return undefined;
    socket.cork?.();
    for (const { data, encoding, callback } of message.outputData) socket.write(data, encoding, callback);
    socket.uncork?.();
    message.outputData = [];
    message._onPendingData(-message.outputSize);
    message.outputSize = 0;
    return true;
  };
  const define = (/** @type {string} */ name, /** @type {Function} */ value) =>
    Object.defineProperty(proto, name, { value, writable: true, configurable: true });

  define("assignSocket", /** @this {Message} */ function assignSocket(/** @type {AssignedSocket} */ socket) {
    if (socket._httpMessage) throw Object.assign(new Error("Socket already assigned"), { code: "ERR_HTTP_SOCKET_ASSIGNED" });
    socket._httpMessage = this;
    this[SOCKET] = socket;
    for (const key of ["socket", "connection"]) Object.defineProperty(this, key, { value: socket, writable: true, configurable: true });
    this.emit("socket", socket);
    this._flush();
  });
  define("detachSocket", /** @this {Message} */ function detachSocket(/** @type {AssignedSocket} */ socket) {
    socket._httpMessage = null;
    this[SOCKET] = null;
    for (const key of ["socket", "connection"]) Object.defineProperty(this, key, { value: null, writable: true, configurable: true });
  });
  define("_writeRaw", /** @this {Message} */ function _writeRaw(/** @type {string | Uint8Array} */ data, /** @type {unknown} */ encoding, /** @type {unknown} */ callback, /** @type {unknown} */ size) {
    /** @type {AssignedSocket | null | undefined} */
    const socket = this[SOCKET];
    if (!socket) return fetchWriteRaw.call(this, data, encoding, callback, size);
    if (socket.destroyed) return false;
    if (typeof encoding === "function") {
      callback = encoding;
      encoding = null;
    }
    if (socket._httpMessage === this && socket.writable !== false) {
      flushTo(this, socket);
      return socket.write(data, encoding, callback);
    }
    this.outputData.push({ data, encoding, callback });
    this.outputSize += data.length;
    this._onPendingData(data.length);
    return true;
  });
  define("_flush", /** @this {Message} */ function _flush() {
    /** @type {AssignedSocket | null | undefined} */
    const socket = this[SOCKET];
    if (!socket) return fetchFlush.call(this);
    if (socket.writable === false) return undefined;
    flushTo(this, socket);
    if (this.finished) this._finish();
    return undefined;
  });
}

/**
 * Replaces http.IncomingMessage (as `require("http")` gives it) with a
 * subclass whose constructor keeps its socket argument as workerd's own
 * `connection` setter stores it. `instanceof http.IncomingMessage` stays true
 * for every incoming message, including workerd's own.
 */
export function installIncomingMessageSocket() {
  const Base = http.IncomingMessage;
  if (typeof Base !== "function") return;
  class IncomingMessage extends Base {
    /** @param {unknown} [socket] */
    constructor(socket) {
      super(/** @type {import("node:net").Socket} */ (socket));
      if (socket !== undefined && socket !== null) /** @type {{ connection: unknown }} */ (/** @type {unknown} */ (this)).connection = socket;
    }

    /** @override @param {unknown} value */
    static [Symbol.hasInstance](value) {
      return this === IncomingMessage ? value instanceof Base : Function.prototype[Symbol.hasInstance].call(this, value);
    }
  }
  try {
    Object.defineProperty(http, "IncomingMessage", { value: IncomingMessage, writable: true, configurable: true, enumerable: true });
  } catch {
    /* a frozen module object keeps workerd's class */
  }
}
