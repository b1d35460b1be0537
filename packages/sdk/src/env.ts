/** A process environment, as `process.env` is: names to values, some unset. */
export type Env = Readonly<Record<string, string | undefined>>;
