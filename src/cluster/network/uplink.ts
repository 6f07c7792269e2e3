import { existsSync } from 'node:fs';
import { sh } from '../host.js';
import { readSysctl, writeSysctl } from './sysctl.js';

/**
 * Egress NAT needs forwarding on the host's uplink too, not only on the bridge: the replies come in
 * on the uplink and are forwarded to the bridge, and the kernel checks the forwarding flag of the
 * interface a packet comes in on. Only these interfaces are touched; the global ip_forward is not.
 */
export function defaultRouteDevices(linkPrefix = 'sk'): string[] {
  const devs = sh('ip', ['-4', '-o', 'route', 'show', 'default'])
    .split('\n')
    .map((l) => / dev (\S+)/.exec(l)?.[1])
    .filter((d): d is string => !!d && !d.startsWith(linkPrefix));
  return [...new Set(devs)];
}

const key = (dev: string) => `net.ipv4.conf.${dev}.forwarding`;

/**
 * Turns forwarding on for each uplink; returns each one's value before. A value another cluster
 * recorded wins over the current one (which that cluster set), so the host's own value is restored last.
 */
export function enableUplinkForwarding(devs: string[], recordedByOthers: Record<string, string>): Record<string, string> {
  const before: Record<string, string> = {};
  for (const dev of devs) {
    before[dev] = recordedByOthers[dev] ?? readSysctl(key(dev));
    writeSysctl(key(dev), '1');
  }
  return before;
}

/** Restores uplinks no other cluster still uses; returns those restored. */
export function restoreUplinkForwarding(before: Record<string, string>, stillUsed: Set<string>): string[] {
  const restored: string[] = [];
  for (const [dev, value] of Object.entries(before)) {
    if (stillUsed.has(dev) || !existsSync(`/proc/sys/net/ipv4/conf/${dev}`)) continue;
    writeSysctl(key(dev), value);
    restored.push(dev);
  }
  return restored;
}
