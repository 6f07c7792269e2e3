import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import * as packet from 'dns-packet';
import type { ClusterRecords, Srv } from './records.js';

/** How long a record may be cached: short, since Services change (CoreDNS's kubernetes plugin: 5 s). */
const TTL = 5;
const FORWARD_TIMEOUT_MS = 2000;
const RCODES = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3 } as const;

/** The host's resolvers (a node sees the host's /etc/resolv.conf), for names outside the cluster. */
export function upstreamResolvers(resolvConf = '/etc/resolv.conf', exclude: string[] = []): string[] {
  try {
    return readFileSync(resolvConf, 'utf8')
      .split('\n')
      .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((s): s is string => !!s && !exclude.includes(s));
  } catch {
    return [];
  }
}

export interface DnsServer {
  close(): Promise<void>;
  /** the ports it listens on (UDP and TCP share the number) */
  port: number;
}

/**
 * Serves the cluster's records over UDP and TCP on `host:port`; anything outside the cluster zone is
 * relayed to `upstreams` as it came (first answer wins; none in 2 s is SERVFAIL).
 */
export async function serveDns(records: ClusterRecords, opts: { host: string; port: number; upstreams: string[] }): Promise<DnsServer> {
  const answer = (query: Buffer): Promise<Buffer> => respond(records, query, opts.upstreams);
  const udp = createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    void answer(msg).then(
      (out) => udp.send(out, rinfo.port, rinfo.address),
      () => undefined, // a packet that is not DNS gets no answer
    );
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(opts.port, opts.host, () => resolve());
  });
  const port = udp.address().port;
  const tcp: Server = createServer((conn) => {
    let buf = Buffer.alloc(0);
    conn.on('error', () => undefined);
    conn.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void answer(msg).then(
          (out) => conn.write(Buffer.concat([Buffer.from([out.length >> 8, out.length & 0xff]), out])),
          () => conn.destroy(),
        );
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, opts.host, () => resolve());
  });
  return {
    port,
    close: () => new Promise<void>((resolve) => udp.close(() => tcp.close(() => resolve()))),
  };
}

async function respond(records: ClusterRecords, query: Buffer, upstreams: string[]): Promise<Buffer> {
  const q = packet.decode(query);
  const question = q.questions?.[0];
  // dns-packet carries the response code in the low four bits of the flags.
  const reply = (rcode: 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN', answers: packet.Answer[] = [], authorities: packet.Answer[] = []) =>
    packet.encode({
      id: q.id,
      type: 'response',
      flags: packet.AUTHORITATIVE_ANSWER | ((q.flags ?? 0) & packet.RECURSION_DESIRED) | packet.RECURSION_AVAILABLE | RCODES[rcode],
      questions: q.questions,
      answers,
      authorities,
    });
  if (!question) return reply('FORMERR');
  const a = records.answer(question.name, question.type);
  if (a.kind === 'forward') return forward(query, upstreams).catch(() => reply('SERVFAIL'));
  const soa: packet.Answer = {
    type: 'SOA',
    name: records.zone,
    ttl: TTL,
    data: { mname: `ns.dns.${records.zone}`, rname: `hostmaster.${records.zone}`, serial: Math.floor(Date.now() / 1000), refresh: 7200, retry: 1800, expiration: 86400, minimum: TTL },
  } as packet.Answer;
  if (a.kind === 'nxdomain') return reply('NXDOMAIN', [], [soa]);
  if (a.kind === 'nodata') return reply('NOERROR', [], [soa]);
  const answers = (a.data as (string | Srv)[]).map((data) => ({ type: a.type, name: question.name, ttl: TTL, class: 'IN', data: a.type === 'TXT' ? [data as string] : data }) as packet.Answer);
  return reply('NOERROR', answers);
}

/** Relays a query to the upstream resolvers over UDP; the first answer is returned as it came. */
function forward(query: Buffer, upstreams: string[]): Promise<Buffer> {
  if (upstreams.length === 0) return Promise.reject(new Error('no upstream resolver'));
  return new Promise((resolve, reject) => {
    const sock: Socket = createSocket('udp4');
    let settled = false;
    const done = (err?: Error, msg?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(msg!);
    };
    const timer = setTimeout(() => done(new Error('upstream timeout')), FORWARD_TIMEOUT_MS);
    sock.on('message', (msg) => done(undefined, msg));
    sock.on('error', (err) => done(err));
    for (const u of upstreams) sock.send(query, 53, u);
  });
}
