import { readFileSync } from 'node:fs';
import type { PortMapping } from '../config/types.js';

/** TCP sockets in this state listen; a bound UDP socket is in use in any state. */
const TCP_LISTEN = '0A';

function readTable(file: string): string[][] {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
  } catch {
    return []; // no IPv6 on this host: no table
  }
}

/**
 * Host ports a process of the host already holds (listening TCP, bound UDP; IPv4 and IPv6), from
 * /proc/net: a DNAT rule for one of them would silently take its traffic away.
 */
export function portsInUse(protocol: PortMapping['protocol']): Set<number> {
  const proto = protocol === 'UDP' ? 'udp' : 'tcp';
  const ports = new Set<number>();
  for (const row of [...readTable(`/proc/net/${proto}`), ...readTable(`/proc/net/${proto}6`)]) {
    if (proto === 'tcp' && row[3] !== TCP_LISTEN) continue;
    const port = parseInt(row[1]?.split(':')[1] ?? '', 16);
    if (Number.isInteger(port)) ports.add(port);
  }
  return ports;
}
