/**
 * Names from a file (zip entries, tensor names, storage keys) in a message: JSON-escaped so a
 * hostile name cannot break the one-line error, and cut short so it cannot flood it.
 */
const MAX_QUOTED = 80;

export function quoted(text: string): string {
  return JSON.stringify(text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text);
}
