// `sif sign` and `sif verify` of a 100 MiB and a 1 GiB SIF (one partition of random data), ECDSA
// P-256 (DSSE) and OpenPGP Ed25519, against the floor for anything that signs every object: one
// read of the file and one SHA-256 of its bytes, in this process (same crypto library). Wall and CPU
// time (user + system; steadier on a shared machine); page cache warm; runs interleaved.
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSif, DataType, deleteObject, FsType, loadKeys, newKey, PartType, signSif, verifySif } from '../../src/sif/index.js';
import { median } from './common.js';

const MiB = 1024 * 1024;
const RUNS = Number(process.env.BENCH_N ?? 5);

/** Wall and CPU milliseconds of one call. */
async function measure(fn: () => unknown): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: Number(process.hrtime.bigint() - t0) / 1e6, cpu: (c.user + c.system) / 1000 };
}

function readAndHash(file: string): string {
  const fd = openSync(file, 'r');
  const h = createHash('sha256');
  const buf = Buffer.alloc(8 * MiB);
  for (let n; (n = readSync(fd, buf)) > 0; ) h.update(buf.subarray(0, n));
  closeSync(fd);
  return h.digest('hex');
}

const dir = mkdtempSync(join(tmpdir(), 'sifkube-bench-sign-'));
try {
  const keys = { ecdsa: await newKey({ type: 'ecdsa', dir }), pgp: await newKey({ type: 'pgp', dir }) };
  for (const size of [100 * MiB, 1024 * MiB]) {
    const data = join(dir, 'data');
    const fd = openSync(data, 'w');
    const chunk = Buffer.alloc(8 * MiB);
    for (let done = 0; done < size; done += chunk.length) writeSync(fd, randomFillSync(chunk));
    closeSync(fd);
    const sif = join(dir, 'image.sif');
    createSif(sif, { objects: [{ dataType: DataType.Partition, data: { path: data }, partition: { fsType: FsType.Squashfs, partType: PartType.PrimSys, arch: '02' } }] });
    rmSync(data);
    const label = `${size / MiB} MiB`;
    for (const [type, k] of Object.entries(keys)) {
      const pub = await loadKeys([k.publicFile]);
      const t: Record<'floor' | 'sign' | 'verify', { wall: number; cpu: number }[]> = { floor: [], sign: [], verify: [] };
      for (let i = 0; i <= RUNS; i++) {
        const floor = await measure(() => readAndHash(sif));
        let id = 0;
        const sign = await measure(async () => (id = (await signSif(sif, { keys: [k.privateFile] })).signatures[0].id));
        const verify = await measure(async () => {
          if (!(await verifySif(sif, pub)).ok) throw new Error('verification failed');
        });
        // The signature comes off again (compacting the file), outside the timing.
        deleteObject(sif, id, { compact: true });
        // The first round warms the page cache and loads openpgp: not counted.
        if (i > 0) Object.entries({ floor, sign, verify }).forEach(([key, v]) => t[key as keyof typeof t].push(v));
      }
      const m = (key: keyof typeof t, f: 'wall' | 'cpu') => median(t[key].map((x) => x[f]));
      const cell = (key: 'sign' | 'verify') => `${m(key, 'wall').toFixed(0)} ms wall (${(m(key, 'wall') / m('floor', 'wall')).toFixed(2)}x), ${m(key, 'cpu').toFixed(0)} ms CPU (${(m(key, 'cpu') / m('floor', 'cpu')).toFixed(2)}x)`;
      console.log(`| ${type}, ${label} | ${cell('sign')} | ${cell('verify')} | ${m('floor', 'wall').toFixed(0)} ms wall, ${m('floor', 'cpu').toFixed(0)} ms CPU |`);
    }
    rmSync(sif);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
