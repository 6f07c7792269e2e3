import { UsageError } from '../errors.js';

/** A positive integer argument (an object ID, a group, a count), or a one-line usage error. */
export function positiveInt(name: string, value: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > 0xffffffff) {
    throw new UsageError(`${name} ${JSON.stringify(value)} is not a positive integer: give a number such as 1`);
  }
  return Number(value);
}

/** KEY=VALUE pairs (repeatable flags) as an object. */
export function keyValues(name: string, pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs) return undefined;
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i < 1) throw new UsageError(`${name} ${JSON.stringify(p)} is not KEY=VALUE: write it as ${name} KEY=VALUE`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}
