import { readFileSync, writeFileSync } from 'node:fs';

/** The global sysctls the kubelet writes; recorded before the first node starts, restored by delete. */
export const KUBELET_SYSCTLS = ['vm.overcommit_memory', 'kernel.panic', 'kernel.panic_on_oops'];

function path(key: string): string {
  return `/proc/sys/${key.replace(/\./g, '/')}`;
}

export function readSysctl(key: string): string {
  return readFileSync(path(key), 'utf8').trim();
}

export function writeSysctl(key: string, value: string): void {
  writeFileSync(path(key), `${value}\n`);
}

export function recordHostSysctls(keys = KUBELET_SYSCTLS): Record<string, string> {
  return Object.fromEntries(keys.map((k) => [k, readSysctl(k)]));
}

/** Writes back recorded values that differ; returns the keys it changed. */
export function restoreHostSysctls(values: Record<string, string>): string[] {
  const changed: string[] = [];
  for (const [k, v] of Object.entries(values)) {
    if (readSysctl(k) !== v) {
      writeSysctl(k, v);
      changed.push(k);
    }
  }
  return changed;
}
