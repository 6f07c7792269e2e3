import { inNetns } from './netns.js';

export interface InterfaceStats {
  name: string;
  rxBytes: number;
  rxErrors: number;
  txBytes: number;
  txErrors: number;
}

/** Per-interface counters of a network namespace, from its /proc/net/dev (loopback left out). */
export async function interfaceStats(netnsPath: string): Promise<InterfaceStats[]> {
  const text = await inNetns(netnsPath, ['cat', '/proc/net/dev']);
  return text
    .split('\n')
    .slice(2)
    .filter((l) => l.includes(':'))
    .map((l) => {
      const [name, rest] = l.split(':');
      const f = rest.trim().split(/\s+/).map(Number);
      return { name: name.trim(), rxBytes: f[0], rxErrors: f[2], txBytes: f[8], txErrors: f[10] };
    })
    .filter((i) => i.name !== 'lo');
}
