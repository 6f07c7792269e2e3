// `sif sign` and `sif verify` of a 100 MiB and a 1 GiB SIF (one partition of random data), ECDSA
// P-256 (DSSE) and OpenPGP Ed25519, against `openssl dgst -sha256` of the same file: one read and
// one SHA-256 of the bytes (with the CPU's SHA instructions, as Node's), the floor for anything that
// signs every object. Page cache warm for both.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSif, DataType, deleteObject, FsType, loadKeys, newKey, PartType, signSif, verifySif } from '../../src/sif/index.js';
import { median } from './common.js';

const MiB = 1024 * 1024;

async function ms(fn: () => unknown): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
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
      // Interleaved runs (the machine is shared, so load drifts): the floor, a signing, a verification.
      // Each signing is taken off again afterwards (compacting the file), outside the timing.
      const t = { floor: [] as number[], sign: [] as number[], verify: [] as number[] };
      for (let i = 0; i < 6; i++) {
        const floor = await ms(() => spawnSync('openssl', ['dgst', '-sha256', sif]));
        let id = 0;
        const sign = await ms(async () => (id = (await signSif(sif, { keys: [k.privateFile] })).signatures[0].id));
        const verify = await ms(async () => {
          if (!(await verifySif(sif, pub)).ok) throw new Error('verification failed');
        });
        deleteObject(sif, id, { compact: true });
        // The first round warms the page cache and loads openpgp: not counted.
        if (i > 0) for (const [key, v] of Object.entries({ floor, sign, verify })) t[key as keyof typeof t].push(v);
      }
      const [floor, sign, verify] = [median(t.floor), median(t.sign), median(t.verify)];
      console.log(`| ${type}, ${label} | sign ${sign.toFixed(0)} ms (${(sign / floor).toFixed(2)}x) | verify ${verify.toFixed(0)} ms (${(verify / floor).toFixed(2)}x) | openssl dgst -sha256 ${floor.toFixed(0)} ms |`);
    }
    rmSync(sif);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
