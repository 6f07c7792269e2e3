import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import * as packet from 'dns-packet';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { ClusterRecords, serveDns } from '../../src/cluster/index.js';

// The cluster DNS add-on's records and server, per the Kubernetes DNS specification, queried over
// real UDP and TCP sockets on loopback; the end-to-end suite resolves names from pods.

const svc = (ns: string, name: string, spec: V1Service['spec']): V1Service => ({ metadata: { namespace: ns, name }, spec });
const services: V1Service[] = [
  svc('default', 'web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 81 }] }),
  svc('db', 'pg', { clusterIP: 'None', ports: [{ name: 'sql', port: 5432 }] }),
  svc('default', 'ext', { type: 'ExternalName', externalName: 'example.org.' }),
];
const slices: V1EndpointSlice[] = [
  {
    metadata: { namespace: 'db', name: 'pg-abc', labels: { 'kubernetes.io/service-name': 'pg' } },
    addressType: 'IPv4',
    ports: [{ name: 'sql', port: 5432, protocol: 'TCP' }],
    endpoints: [
      { addresses: ['10.244.1.5'], hostname: 'pg-0', conditions: { ready: true } },
      { addresses: ['10.244.2.6'], conditions: { ready: true } },
      { addresses: ['10.244.3.7'], conditions: { ready: false } },
    ],
  },
];
const records = new ClusterRecords('cluster.local');
records.rebuild(services, slices);

test('records: ClusterIP A and SRV, headless A per ready endpoint and by hostname, ExternalName CNAME, PTR, pods, schema version', () => {
  assert.equal(records.answer('web.default.svc.cluster.local.', 'A'), { kind: 'records', type: 'A', name: 'web.default.svc.cluster.local', data: ['10.96.0.20'] });
  assert.equal(records.answer('_http._tcp.web.default.svc.cluster.local', 'SRV'), {
    kind: 'records',
    type: 'SRV',
    name: '_http._tcp.web.default.svc.cluster.local',
    data: [{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }],
  });
  assert.equal((records.answer('pg.db.svc.cluster.local', 'A') as { data: string[] }).data, ['10.244.1.5', '10.244.2.6']);
  assert.equal((records.answer('pg-0.pg.db.svc.cluster.local', 'A') as { data: string[] }).data, ['10.244.1.5']);
  assert.equal((records.answer('10-244-2-6.pg.db.svc.cluster.local', 'A') as { data: string[] }).data, ['10.244.2.6']);
  assert.equal(
    (records.answer('_sql._tcp.pg.db.svc.cluster.local', 'SRV') as { data: { target: string }[] }).data.map((s) => s.target),
    ['pg-0.pg.db.svc.cluster.local', '10-244-2-6.pg.db.svc.cluster.local'],
  );
  assert.equal(records.answer('ext.default.svc.cluster.local', 'A'), { kind: 'records', type: 'CNAME', name: 'ext.default.svc.cluster.local', data: ['example.org'] });
  assert.equal((records.answer('20.0.96.10.in-addr.arpa', 'PTR') as { data: string[] }).data, ['web.default.svc.cluster.local']);
  assert.equal((records.answer('5.1.244.10.in-addr.arpa', 'PTR') as { data: string[] }).data, ['pg-0.pg.db.svc.cluster.local']);
  assert.equal((records.answer('10-244-9-9.anyns.pod.cluster.local', 'A') as { data: string[] }).data, ['10.244.9.9']);
  assert.equal((records.answer('dns-version.cluster.local', 'TXT') as { data: string[] }).data, ['1.1.0']);
  assert.equal(records.answer('web.default.svc.cluster.local', 'AAAA'), { kind: 'nodata' });
  assert.equal(records.answer('default.svc.cluster.local', 'A'), { kind: 'nodata' });
  assert.equal(records.answer('nope.default.svc.cluster.local', 'A'), { kind: 'nxdomain' });
  assert.equal(records.answer('example.org', 'A'), { kind: 'forward' });
  // a change is served at once
  records.rebuild(services.slice(1), slices);
  assert.equal(records.answer('web.default.svc.cluster.local', 'A'), { kind: 'nxdomain' });
  records.rebuild(services, slices);
});

type Reply = packet.DecodedPacket & { rcode: string };

async function udpQuery(port: number, name: string, type: string): Promise<Reply> {
  const sock = createSocket('udp4');
  try {
    return await new Promise((resolve, reject) => {
      sock.on('message', (m) => resolve(packet.decode(m) as Reply));
      sock.on('error', reject);
      sock.send(packet.encode({ type: 'query', id: 7, flags: packet.RECURSION_DESIRED, questions: [{ type, name } as packet.Question] }), port, '127.0.0.1');
      setTimeout(() => reject(new Error('no answer')), 3000);
    });
  } finally {
    sock.close();
  }
}

test('server: UDP and TCP answers, NXDOMAIN with the SOA, other names relayed to the upstream as they came', async () => {
  // The forwarder speaks to port 53, as resolv.conf implies: a stand-in upstream listens on 127.0.0.2:53.
  const upstream = createSocket('udp4');
  upstream.on('message', (m, r) => {
    const q = packet.decode(m);
    upstream.send(packet.encode({ type: 'response', id: q.id, questions: q.questions, answers: [{ type: 'A', name: q.questions![0].name, ttl: 60, data: '192.0.2.1' } as packet.Answer] }), r.port, r.address);
  });
  await new Promise<void>((r) => upstream.bind(53, '127.0.0.2', r));
  const dns = await serveDns(records, { host: '127.0.0.1', port: 0, upstreams: ['127.0.0.2'] });
  try {
    const a = await udpQuery(dns.port, 'web.default.svc.cluster.local', 'A');
    assert.is(a.id, 7);
    assert.is(a.rcode, 'NOERROR');
    assert.equal(a.answers?.map((x) => (x as { data: string }).data), ['10.96.0.20']);
    const nx = await udpQuery(dns.port, 'nope.default.svc.cluster.local', 'A');
    assert.is(nx.rcode, 'NXDOMAIN');
    assert.is(nx.authorities?.[0].type, 'SOA');
    const out = await udpQuery(dns.port, 'example.org', 'A');
    assert.equal(out.answers?.map((x) => (x as { data: string }).data), ['192.0.2.1']);
    // TCP: two-byte length, then the message
    const reply = await new Promise<Reply>((resolve, reject) => {
      const c = connect(dns.port, '127.0.0.1', () => c.write(packet.streamEncode({ type: 'query', id: 9, questions: [{ type: 'SRV', name: '_http._tcp.web.default.svc.cluster.local' } as packet.Question] })));
      let buf = Buffer.alloc(0);
      c.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          c.end();
          resolve(packet.streamDecode(buf) as Reply);
        }
      });
      c.on('error', reject);
    });
    assert.is(reply.id, 9);
    assert.is((reply.answers?.[0] as { data: { port: number } }).data.port, 80);
  } finally {
    await dns.close();
    upstream.close();
  }
});

test.run();
