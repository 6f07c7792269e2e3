import { CgroupConfigError, CgroupUnsupportedError } from './errors.js';

/** A resource value written where the host has no place for it. */
export function unsupported(field: string, layout: string, fix = 'remove it from the config'): never {
  throw new CgroupUnsupportedError(`linux.resources.${field}`, `not available with cgroup ${layout}`, fix);
}

export function int(v: number, field: string, min = -1): string {
  if (!Number.isSafeInteger(v) || v < min) throw new CgroupConfigError(`linux.resources.${field}`, `is ${v}`, `use an integer of at least ${min}`);
  return String(v);
}

export function intIn(v: number, field: string, min: number, max: number): string {
  if (!Number.isInteger(v) || v < min || v > max) throw new CgroupConfigError(`linux.resources.${field}`, `is ${v}`, `use an integer from ${min} to ${max}`);
  return String(v);
}

/** "max" for -1 (unlimited), else the number. */
export function limitOrMax(v: number, field: string): string {
  return v === -1 ? 'max' : int(v, field, 0);
}

export function pageSizeOk(size: string, i: number): string {
  if (!/^\d+(KB|MB|GB)$/.test(size)) throw new CgroupConfigError(`linux.resources.hugepageLimits[${i}].pageSize`, `is ${JSON.stringify(size)}`, 'use a size like "2MB" or "1GB"');
  return size;
}

export function unifiedKeyOk(key: string): string {
  if (key.includes('/') || key === '.' || key === '..' || !key.includes('.')) {
    throw new CgroupConfigError(`linux.resources.unified[${JSON.stringify(key)}]`, 'is not a cgroup v2 file name', 'use a file name like "memory.high"');
  }
  return key;
}
