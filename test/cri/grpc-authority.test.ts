import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect as http2Connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { AuthorityRewriter } from '../../src/cri/grpc/http2-authority.js';
import { startTestCri, type TestCri } from '../helpers/cri.js';

// Go gRPC clients that dial a unix socket by path (the v1.28 kubelet, crictl 1.26) send the path as
// `:authority`, which Node's HTTP/2 layer refuses with RST_STREAM PROTOCOL_ERROR. These raw HTTP/2
// requests send exactly that; test/cri/crictl.test.ts drives the socket with the real Go client.

let cri: TestCri;

test.before(async () => {
  cri = await startTestCri();
});

test.after(async () => {
  await cri.dispose();
});

/** A Version request as gRPC frames it: no compression, 4-byte length, then `version: "v1"`. */
const VERSION_REQUEST = Buffer.from([0, 0, 0, 0, 4, 0x0a, 0x02, 0x76, 0x31]);

function session(): ClientHttp2Session {
  return http2Connect('http://localhost', { createConnection: () => netConnect(cri.socket) });
}

async function version(s: ClientHttp2Session, extra: Record<string, string> = {}): Promise<{ headers: IncomingHttpHeaders; trailers: IncomingHttpHeaders; body: Buffer }> {
  const req = s.request({
    ':method': 'POST',
    ':path': '/runtime.v1.RuntimeService/Version',
    ':authority': cri.socket,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...extra,
  });
  req.end(VERSION_REQUEST);
  return new Promise((resolve, reject) => {
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (headers = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ headers, trailers, body: Buffer.concat(chunks) }));
    req.on('error', reject);
  });
}

test('a request whose :authority is the socket path is served (grpc-status 0, the runtime name)', async () => {
  const s = session();
  try {
    const r = await version(s);
    assert.is(r.headers[':status'], 200);
    assert.is(r.trailers['grpc-status'], '0');
    assert.ok(r.body.includes(Buffer.from('sifkube')), r.body.toString('latin1'));
  } finally {
    s.close();
  }
});

test('many requests on one connection (the client indexes headers in its dynamic table), large and sensitive headers', async () => {
  const s = session();
  try {
    for (let i = 0; i < 20; i++) {
      const r = await version(s, { 'x-request': `n${i}`, 'x-same': 'repeated value' });
      assert.is(r.trailers['grpc-status'], '0', `request ${i}`);
    }
    // A header block larger than one frame arrives in HEADERS + CONTINUATION frames.
    const big = await version(s, { 'x-big': 'b'.repeat(40_000) });
    assert.is(big.trailers['grpc-status'], '0');
  } finally {
    s.close();
  }
});

test('a connection that breaks HTTP/2 is dropped and the server keeps serving others', async () => {
  const junk = netConnect(cri.socket);
  await new Promise<void>((resolve) => {
    junk.on('connect', () => junk.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    junk.on('close', () => resolve());
    junk.on('error', () => undefined);
    junk.resume();
  });
  const s = session();
  try {
    assert.is((await version(s)).trailers['grpc-status'], '0');
  } finally {
    s.close();
  }
});

test('rewriter: frames split at every byte give the same bytes as one write; other frames pass unchanged', () => {
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
  const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
  // HEADERS, stream 1, END_HEADERS: literal without indexing, name ":authority" (static index 1).
  const value = Buffer.from('/run/x.sock', 'latin1');
  const block = Buffer.concat([Buffer.from([0x01, value.length]), value]);
  const headers = Buffer.concat([Buffer.from([0, 0, block.length, 1, 0x04, 0, 0, 0, 1]), block]);
  const data = Buffer.from([0, 0, 2, 0, 0x01, 0, 0, 0, 1, 0xaa, 0xbb]);
  const input = Buffer.concat([preface, settings, headers, data]);
  const whole = Buffer.concat(new AuthorityRewriter().push(input));
  const byByte = new AuthorityRewriter();
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; i++) pieces.push(...byByte.push(input.subarray(i, i + 1)));
  assert.equal(Buffer.concat(pieces), whole);
  assert.ok(whole.subarray(0, preface.length + settings.length).equals(Buffer.concat([preface, settings])));
  assert.ok(whole.subarray(whole.length - data.length).equals(data));
  const rewritten = whole.subarray(preface.length + settings.length, whole.length - data.length);
  assert.ok(rewritten.includes(Buffer.from('localhost')), rewritten.toString('latin1'));
  assert.not.ok(rewritten.includes(value));
});

test('rewriter: a frame other than CONTINUATION inside a header block is a protocol error', () => {
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
  const open = Buffer.from([0, 0, 1, 1, 0x00, 0, 0, 0, 1, 0x82]); // HEADERS without END_HEADERS
  const data = Buffer.from([0, 0, 0, 0, 0x01, 0, 0, 0, 1]);
  assert.throws(() => new AuthorityRewriter().push(Buffer.concat([preface, open, data])), /inside the header block of stream 1/);
});

test.run();
