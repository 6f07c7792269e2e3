import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

/** resolv.conf from the kubelet's DNS config; with none, the host's own (the kubelet's "Default" policy). */
export function resolvConf(dns: DnsConfig | null | undefined): string {
  if (!dns || (dns.servers.length === 0 && dns.searches.length === 0 && dns.options.length === 0)) {
    try {
      return readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      return '';
    }
  }
  const lines = dns.servers.map((s) => `nameserver ${s}`);
  if (dns.searches.length > 0) lines.push(`search ${dns.searches.join(' ')}`);
  if (dns.options.length > 0) lines.push(`options ${dns.options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

export function hostsFile(hostname: string, ip: string | undefined): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters'];
  if (ip && hostname) lines.push(`${ip}\t${hostname}`);
  return `${lines.join('\n')}\n`;
}

/** Writes hostname, hosts and resolv.conf into the sandbox folder; containers bind-mount them. */
export function writePodFiles(dir: string, hostname: string, ip: string | undefined, dns: DnsConfig | null | undefined): void {
  writeFileSync(join(dir, 'hostname'), `${hostname}\n`);
  writeFileSync(join(dir, 'hosts'), hostsFile(hostname, ip));
  writeFileSync(join(dir, 'resolv.conf'), resolvConf(dns));
}
