/** commander's collector for an option given several times: every value, in order. */
export function repeated(value: string, previous: string[]): string[] {
  return [...previous, value];
}
