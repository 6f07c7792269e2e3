import { InvalidArgumentError } from './errors.js';

/** Request checks: each names the CRI field (as the .proto spells it) and what to send instead. */
export function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new InvalidArgumentError(`${field} is empty: set it`);
  return value;
}

export function requireMessage<T>(value: T | null | undefined, field: string): T {
  if (value === null || value === undefined) throw new InvalidArgumentError(`${field} is missing: set it`);
  return value;
}

/** A proto int64 (a decimal string here) as a number, refusing negatives where the field forbids them. */
export function nonNegative(value: unknown, field: string): number {
  const n = Number(value ?? 0);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${field} is ${String(value)}: use 0 or more`);
  return n;
}

/** True when every selector pair is in the labels (CRI label selectors are ANDed exact matches). */
export function matchesLabels(labels: Record<string, string>, selector: Record<string, string> | null | undefined): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

/** Nanoseconds since the epoch, as the decimal string proto-loader takes for int64. */
export function nowNanos(): string {
  return (BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n).toString();
}
