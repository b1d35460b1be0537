/**
 * `text` as a JSON string for a message: whole up to `max` characters, else its start and end
 * around an ellipsis, with its length (a value pasted by mistake can be megabytes long).
 */
export function quoteForMessage(text: string, max = 80): string {
  if (text.length <= max) return JSON.stringify(text);
  const half = Math.floor((max - 1) / 2);
  return `${JSON.stringify(`${text.slice(0, half)}…${text.slice(-half)}`)} (${text.length} characters)`;
}
