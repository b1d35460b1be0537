/** A range of character offsets in a file's text (`end` exclusive). */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** Where a value of a parsed file was written, and its key's span when it is a mapping's value. */
export interface Location {
  readonly value: Span;
  readonly key?: Span;
}
