import { ValidationError } from '../../domain/errors.js';

/** Kubernetes quantity suffixes and their multipliers (binary, then decimal SI). */
const SUFFIXES: Readonly<Record<string, number>> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const QUANTITY = /^([+]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

/**
 * Parse a Kubernetes quantity (`500m`, `1`, `1.5`, `256Mi`, `1Gi`, `129M`, `1e3`) into its plain
 * number. Throws ValidationError naming `what` for anything else, or a negative value.
 */
export function parseQuantity(text: string, what = 'quantity'): number {
  const match = QUANTITY.exec(text.trim());
  if (match === null) {
    throw new ValidationError(
      `invalid ${what} "${text}": expected a Kubernetes quantity such as 500m, 2, 256Mi or 1Gi`,
    );
  }
  const base = Number(match[1]);
  const exponent = match[2];
  const factor = exponent !== undefined ? 10 ** Number(exponent.slice(1)) : (SUFFIXES[match[3] ?? ''] ?? 1);
  return base * factor;
}

/** CPU quantity (`500m`, `2`) as a number of cores. */
export function parseCpuCores(text: string): number {
  return parseQuantity(text, 'cpu quantity');
}

/** Memory quantity (`256Mi`, `1Gi`, `1G`, `1048576`) as whole bytes (rounded up). */
export function parseMemoryBytes(text: string): number {
  return Math.ceil(parseQuantity(text, 'memory quantity'));
}
