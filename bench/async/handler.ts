/**
 * The function every tenant of `npm run bench:async` runs. Its first statement
 * tells the bench's receiver (bench/async/receiver.ts) that the handler
 * started, with the handler's own clock; then it returns.
 */
export function asyncHandlerSource(receiverPort: number): string {
  return [
    "export const handler = async (event) => {",
    `  await fetch("http://127.0.0.1:${receiverPort}/start", { method: "POST", body: JSON.stringify({ id: event.id, t: Date.now() }) });`,
    "  return { ok: true };",
    "};",
    "",
  ].join("\n");
}
