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
 * Likewise the adapters' requests and responses are built as Node builds them
 * (installNodeMessages): koa reads `req.socket.encrypted`, express's
 * finalhandler listens on the socket, koa takes a 404's body from statusMessage.
 */
// node:http is taken when the function loads it (installHttp), not at isolate start.

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

/** Both changes below, once node:http is loaded (the shim calls it for http and https). */
export function installHttp() {
  const http = process.getBuiltinModule("node:http");
  installSocketAssignment(http);
  installNodeMessages(http);
}

/** @param {typeof import("node:http")} http */
function installSocketAssignment(http) {
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
 * Replaces http.IncomingMessage and http.ServerResponse (as `require("http")`
 * gives them) with subclasses that construct as Node's do:
 * - `new IncomingMessage(socket)` keeps its socket (through workerd's own
 *   `connection` setter);
 * - a new ServerResponse has no statusMessage until writeHead() picks the
 *   standard one for its status (workerd starts it at "unknown": koa then
 *   answers a 404 with the body "unknown" and the status line says "201 unknown").
 * `instanceof` the replaced class stays true for every message, workerd's own included.
 */
/** @param {typeof import("node:http")} http */
function installNodeMessages(http) {
  const BaseIncoming = http.IncomingMessage;
  // (workerd's constructor takes Node's options argument too; @types/node lists only req.)
  const BaseResponse = /** @type {new (req: import("node:http").IncomingMessage, options?: unknown) => import("node:http").ServerResponse} */ (http.ServerResponse);
  if (typeof BaseIncoming !== "function" || typeof BaseResponse !== "function") return;
  class IncomingMessage extends BaseIncoming {
    /** @param {unknown} [socket] */
    constructor(socket) {
      super(/** @type {import("node:net").Socket} */ (socket));
      if (socket !== undefined && socket !== null) /** @type {{ connection: unknown }} */ (/** @type {unknown} */ (this)).connection = socket;
    }

    /** @override @param {unknown} value */
    static [Symbol.hasInstance](value) {
      return this === IncomingMessage ? value instanceof BaseIncoming : Function.prototype[Symbol.hasInstance].call(this, value);
    }
  }
  class ServerResponse extends BaseResponse {
    /** @param {import("node:http").IncomingMessage} req @param {unknown} [options] */
    constructor(req, options) {
      super(req, options);
      if (this.statusMessage === "unknown") /** @type {{ statusMessage: unknown }} */ (/** @type {unknown} */ (this)).statusMessage = undefined;
    }

    /** @override @param {unknown} value */
    static [Symbol.hasInstance](value) {
      return this === ServerResponse ? value instanceof BaseResponse : Function.prototype[Symbol.hasInstance].call(this, value);
    }
  }
  for (const [name, value] of /** @type {const} */ ([["IncomingMessage", IncomingMessage], ["ServerResponse", ServerResponse]])) {
    try {
      Object.defineProperty(http, name, { value, writable: true, configurable: true, enumerable: true });
    } catch {
      /* a frozen module object keeps workerd's class */
    }
  }
}
