/** The largest CPU number a list may name: the helper's affinity mask is a glibc cpu_set_t. */
export const MAX_CPU = 1023;

/**
 * Checks a Linux CPU list ("0-3,7"), as cpuset.cpus and process.execCPUAffinity write it; returns
 * why it is not one, or undefined when it is.
 */
export function cpuListError(text: string): string | undefined {
  if (text.trim() === '') return 'must name at least one CPU (e.g. "0-1,3")';
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return `${JSON.stringify(part)} is not a CPU number or range (e.g. "0-1,3")`;
    const [from, to] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (to < from) return `range ${part} goes backwards`;
    if (to > MAX_CPU) return `CPU ${to} is above ${MAX_CPU}`;
  }
  return undefined;
}
