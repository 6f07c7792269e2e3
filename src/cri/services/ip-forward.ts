import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SYSCTL = '/proc/sys/net/ipv4/ip_forward';

/**
 * The bridge plugin (isGateway) turns the host's net.ipv4.ip_forward on. The value found before the
 * first pod network came up is kept in a file, and written back when the last pod network goes.
 */
export class IpForwardGuard {
  private readonly file: string;

  constructor(stateDir: string) {
    this.file = join(stateDir, 'ip_forward.before');
  }

  /** Call before a pod network comes up. */
  remember(): void {
    if (!existsSync(this.file)) writeFileSync(this.file, readFileSync(SYSCTL, 'utf8').trim());
  }

  /** Call when no pod network is left. */
  restore(): void {
    if (!existsSync(this.file)) return;
    const before = readFileSync(this.file, 'utf8').trim();
    if (before === '0' && readFileSync(SYSCTL, 'utf8').trim() !== '0') writeFileSync(SYSCTL, '0');
    rmSync(this.file, { force: true });
  }
}
