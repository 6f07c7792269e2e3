// Each kind of damaged image gets a one-line error naming the file and the defect, its own exit
// code, and no stack trace; the reader never reads past the end of the file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bufferSource, D, parseSif, SifError } from '../../src/sif/index.js';
import { cli, fixture } from '../helpers/sif.js';
import { scratch } from '../helpers/sif.js';

const base = () => Buffer.from(readFileSync(fixture('one-group.sif')));
const slot = (n: number) => 4096 + n * 585;

const cases: { name: string; make: () => Buffer; code: number; message: RegExp }[] = [
  { name: 'empty file', make: () => Buffer.alloc(0), code: 41, message: /truncated \(0 bytes/ },
  { name: 'truncated header', make: () => base().subarray(0, 100), code: 41, message: /truncated/ },
  { name: 'truncated descriptor table', make: () => base().subarray(0, 10000), code: 44, message: /table \(offset 4096, 28080 bytes\) runs past the end of the file \(10000 bytes\)/ },
  { name: 'truncated data', make: () => base().subarray(0, 36000), code: 45, message: /data area .* lies outside/ },
  { name: 'wrong magic', make: () => { const b = base(); b.write('NOT_MAGIC', 32); return b; }, code: 42, message: /invalid SIF magic/ },
  { name: 'wrong version', make: () => { const b = base(); b.write('02', 42); return b; }, code: 43, message: /incompatible SIF version "02"/ },
  { name: 'negative descriptor count', make: () => { const b = base(); b.writeBigInt64LE(-5n, 88); return b; }, code: 44, message: /negative descriptor count -5/ },
  { name: 'huge descriptor count', make: () => { const b = base(); b.writeBigInt64LE(2n ** 40n, 88); return b; }, code: 44, message: /descriptor count 1099511627776 exceeds/ },
  { name: 'descriptor table past the end', make: () => { const b = base(); b.writeBigInt64LE(2n ** 33n, 96); return b; }, code: 44, message: /runs past the end of the file/ },
  { name: 'object past the end', make: () => { const b = base(); b.writeBigInt64LE(2n ** 31n, slot(1) + D.offset); return b; }, code: 45, message: /object 2 \(offset 2147483648, 4096 bytes\) lies outside/ },
  { name: 'negative object size', make: () => { const b = base(); b.writeBigInt64LE(-1n, slot(0) + D.size); return b; }, code: 45, message: /object 1 has a negative offset or size/ },
  { name: 'two primary partitions', make: () => { const b = base(); b.writeInt32LE(2, slot(0) + D.extra + 4); return b; }, code: 47, message: /two primary partitions \(objects 1 and 2\)/ },
  { name: 'zero-length primary partition', make: () => { const b = base(); b.writeBigInt64LE(0n, slot(1) + D.size); return b; }, code: 47, message: /primary partition \(object 2\) is zero-length/ },
  { name: 'overlapping objects', make: () => { const b = base(); b.writeBigInt64LE(32770n, slot(1) + D.offset); return b; }, code: 46, message: /objects 1 and 2 overlap/ },
  { name: 'duplicate object IDs', make: () => { const b = base(); b.writeUInt32LE(1, slot(1) + D.id); return b; }, code: 48, message: /object ID 1 is used twice/ },
  { name: 'object ID 0', make: () => { const b = base(); b.writeUInt32LE(0, slot(1) + D.id); return b; }, code: 48, message: /object ID 0/ },
];

for (const c of cases) {
  test(`${c.name}: exit ${c.code}, one line naming the file and defect`, () => {
    const s = scratch();
    try {
      const file = join(s.dir, 'bad.sif');
      writeFileSync(file, c.make());
      const r = cli('sif', 'list', file);
      assert.is(r.status, c.code, r.stderr);
      assert.is(r.stdout, '');
      assert.is(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
      assert.ok(r.stderr.startsWith(`sifkube: ${file}: `), r.stderr);
      assert.match(r.stderr, c.message);
      assert.not.match(r.stderr, /\n\s+at /);
    } finally {
      s.done();
    }
  });
}

test('every defect class has its own exit code', () => {
  const codes = new Map<string, number>();
  for (const c of cases) {
    try {
      parseSif(bufferSource('x', c.make()));
      assert.unreachable(c.name);
    } catch (err) {
      assert.ok(err instanceof SifError, c.name);
      const cls = (err as Error).constructor.name;
      if (codes.has(cls)) assert.is(codes.get(cls), (err as SifError).exitCode);
      codes.set(cls, (err as SifError).exitCode);
    }
  }
  assert.is(new Set(codes.values()).size, codes.size);
});

test('the reader asks for no byte past the end of the file', () => {
  for (const c of cases) {
    const buf = c.make();
    const src = bufferSource('x', buf);
    const reads: [number, number][] = [];
    const spy = { ...src, read: (o: number, l: number) => (reads.push([o, l]), src.read(o, l)) };
    try {
      parseSif(spy);
    } catch {
      // expected
    }
    for (const [o, l] of reads) assert.ok(o + l <= Math.max(buf.length, 128), `${c.name}: read ${o}+${l} of ${buf.length}`);
  }
});

test('a missing file and a folder are named with the fix', () => {
  const r = cli('sif', 'header', '/nonexistent/x.sif');
  assert.is(r.status, 40);
  assert.match(r.stderr, /^sifkube: \/nonexistent\/x.sif: cannot read: ENOENT: check the path/);
  assert.is(cli('sif', 'list', '/tmp').status, 40);
});

test.run();
