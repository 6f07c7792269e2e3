import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupOperationError, CgroupUnsupportedError } from './errors.js';

/**
 * Writes one cgroup control file. A missing file means the kernel lacks the feature: that is an
 * error naming the config field, never a silently ignored limit.
 */
export function writeControl(dir: string, file: string, value: string, field: string): void {
  const path = join(dir, file);
  if (!existsSync(path)) throw new CgroupUnsupportedError(field, `this kernel has no ${path}`, 'remove the setting or run on a kernel with this cgroup feature');
  try {
    writeFileSync(path, value);
  } catch (e) {
    throw new CgroupOperationError(`${field}: writing ${JSON.stringify(value)} to ${path}`, e, 'use a value this kernel accepts for it');
  }
}

export function readControl(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

/** A number from a one-value control file ("max" and absent files give undefined). */
export function readNumber(dir: string, file: string): number | undefined {
  const v = readControl(dir, file)?.trim();
  if (v === undefined || v === '' || v === 'max') return undefined;
  const n = Number(v.split(/\s+/)[0]);
  return Number.isFinite(n) ? n : undefined;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events) as a record. */
export function readKeyed(dir: string, file: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (readControl(dir, file) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out[k] = Number(v);
  }
  return out;
}
