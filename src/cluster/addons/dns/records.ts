import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';

/**
 * The cluster's DNS records as the Kubernetes DNS-based service discovery specification (schema
 * 1.1.0) defines them, built from Services and EndpointSlices: A for ClusterIP services and for the
 * ready endpoints of headless ones (by hostname too), SRV for named ports, CNAME for ExternalName,
 * PTR for service and endpoint addresses, `<a-b-c-d>.<ns>.pod.<zone>` for any pod address, and the
 * `dns-version` TXT record.
 */

export type Srv = { priority: number; weight: number; port: number; target: string };

export interface NameRecords {
  A: string[];
  SRV: Srv[];
  CNAME?: string;
  TXT?: string;
}

export type Answer =
  | { kind: 'records'; type: 'A' | 'SRV' | 'CNAME' | 'TXT' | 'PTR'; name: string; data: string[] | Srv[] }
  | { kind: 'nodata' }
  | { kind: 'nxdomain' }
  /** not ours: to be forwarded to the host's resolvers */
  | { kind: 'forward' };

export const SCHEMA_VERSION = '1.1.0';

const lower = (s: string) => s.toLowerCase().replace(/\.$/, '');

export class ClusterRecords {
  private names = new Map<string, NameRecords>();
  private reverse = new Map<string, string>();

  constructor(readonly zone: string) {
    this.rebuild([], []);
  }

  rebuild(services: V1Service[], slices: V1EndpointSlice[]): void {
    const names = new Map<string, NameRecords>();
    const reverse = new Map<string, string>();
    const at = (name: string) => {
      let r = names.get(name);
      if (!r) names.set(name, (r = { A: [], SRV: [] }));
      return r;
    };
    at(`dns-version.${this.zone}`).TXT = SCHEMA_VERSION;
    const byService = new Map<string, V1EndpointSlice[]>();
    for (const s of slices) {
      const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
      if (!svc || s.addressType !== 'IPv4') continue;
      const key = `${s.metadata?.namespace}/${svc}`;
      byService.set(key, [...(byService.get(key) ?? []), s]);
    }
    for (const svc of services) {
      const name = svc.metadata?.name;
      const ns = svc.metadata?.namespace;
      if (!name || !ns) continue;
      const fqdn = `${name}.${ns}.svc.${this.zone}`;
      const spec = svc.spec ?? {};
      if (spec.type === 'ExternalName' && spec.externalName) {
        at(fqdn).CNAME = lower(spec.externalName);
        continue;
      }
      const headless = spec.clusterIP === 'None';
      const rec = at(fqdn);
      if (!headless && spec.clusterIP) {
        rec.A.push(spec.clusterIP);
        reverse.set(spec.clusterIP, fqdn);
        for (const p of spec.ports ?? []) {
          if (p.name) at(`_${p.name}._${(p.protocol ?? 'TCP').toLowerCase()}.${fqdn}`).SRV.push({ priority: 0, weight: 100, port: p.port, target: fqdn });
        }
        continue;
      }
      if (!headless) continue;
      for (const slice of byService.get(`${ns}/${name}`) ?? []) {
        for (const ep of slice.endpoints ?? []) {
          if (ep.conditions?.ready === false) continue;
          for (const ip of ep.addresses ?? []) {
            rec.A.push(ip);
            const host = ep.hostname ? `${ep.hostname}.${fqdn}` : `${ip.replace(/\./g, '-')}.${fqdn}`;
            at(host).A.push(ip);
            if (ep.hostname) reverse.set(ip, host);
            for (const p of slice.ports ?? []) {
              if (p.name && p.port) at(`_${p.name}._${(p.protocol ?? 'TCP').toLowerCase()}.${fqdn}`).SRV.push({ priority: 0, weight: 100, port: p.port, target: host });
            }
          }
        }
      }
    }
    this.names = names;
    this.reverse = reverse;
  }

  /** The answer to one question (name and type), or where it must go. */
  answer(qname: string, qtype: string): Answer {
    const name = lower(qname);
    if (name.endsWith('.in-addr.arpa')) return this.ptr(name, qtype);
    if (name !== this.zone && !name.endsWith(`.${this.zone}`)) return { kind: 'forward' };
    const pod = new RegExp(`^(\\d+)-(\\d+)-(\\d+)-(\\d+)\\.[a-z0-9-]+\\.pod\\.${this.zone.replace(/\./g, '\\.')}$`).exec(name);
    if (pod) {
      const ip = pod.slice(1, 5).join('.');
      if (pod.slice(1, 5).some((o) => Number(o) > 255)) return { kind: 'nxdomain' };
      return qtype === 'A' ? { kind: 'records', type: 'A', name, data: [ip] } : { kind: 'nodata' };
    }
    const rec = this.names.get(name);
    if (!rec) return this.hasBelow(name) ? { kind: 'nodata' } : { kind: 'nxdomain' };
    if (rec.CNAME) return { kind: 'records', type: 'CNAME', name, data: [rec.CNAME] };
    if (qtype === 'A' && rec.A.length > 0) return { kind: 'records', type: 'A', name, data: rec.A };
    if (qtype === 'SRV' && rec.SRV.length > 0) return { kind: 'records', type: 'SRV', name, data: rec.SRV };
    if (qtype === 'TXT' && rec.TXT) return { kind: 'records', type: 'TXT', name, data: [rec.TXT] };
    return { kind: 'nodata' };
  }

  /** A name with no records of its own but names below it (svc.<zone>, <ns>.svc.<zone>) exists: NODATA, not NXDOMAIN. */
  private hasBelow(name: string): boolean {
    if (name === this.zone || name === `svc.${this.zone}` || name === `pod.${this.zone}`) return true;
    for (const n of this.names.keys()) if (n.endsWith(`.${name}`)) return true;
    return false;
  }

  private ptr(name: string, qtype: string): Answer {
    const octets = name.slice(0, -'.in-addr.arpa'.length).split('.').reverse();
    const target = octets.length === 4 ? this.reverse.get(octets.join('.')) : undefined;
    if (!target) return { kind: 'forward' };
    return qtype === 'PTR' ? { kind: 'records', type: 'PTR', name, data: [target] } : { kind: 'nodata' };
  }
}
