// Signature verification against the reference fixtures (signed by sylabs/sif with the keys in
// fixtures/keys): every signed fixture verifies; any tampered covered byte, a wrong key or a
// forged descriptor fingerprint fails.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { D, loadKeys, readSif, SifInputError, SifVerifyError, verifySif, type VerifyKeys } from '../../src/sif/index.js';
import { cli, fixture, FIXTURE_NAMES, KEYS, scratch } from '../helpers/sif.js';

const PGP_FP = '12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84';
let all: VerifyKeys;

test.before(async () => {
  all = await loadKeys(['private.asc', 'ecdsa-public.pem', 'ed25519-public.pem', 'rsa-public.pem'].map((k) => join(KEYS, k)));
});

const expected: Record<string, { format: string; covers: number[] }[]> = {
  'one-group-signed-pgp.sif': [{ format: 'pgp', covers: [1, 2] }],
  'one-group-signed-dsse.sif': [{ format: 'dsse', covers: [1, 2] }],
  'one-group-signed-legacy.sif': [{ format: 'legacy', covers: [2] }],
  'one-group-signed-legacy-group.sif': [{ format: 'legacy', covers: [1, 2] }],
  'one-group-signed-legacy-all.sif': [{ format: 'legacy', covers: [1] }, { format: 'legacy', covers: [2] }],
  'two-groups-signed-pgp.sif': [{ format: 'pgp', covers: [1, 2] }, { format: 'pgp', covers: [3] }],
  'two-groups-signed-dsse.sif': [{ format: 'dsse', covers: [1, 2] }, { format: 'dsse', covers: [3] }],
  'two-groups-signed-legacy.sif': [{ format: 'legacy', covers: [2] }],
  'two-groups-signed-legacy-group.sif': [{ format: 'legacy', covers: [1, 2] }],
  'two-groups-signed-legacy-all.sif': [{ format: 'legacy', covers: [1] }, { format: 'legacy', covers: [2] }],
};

test('every signed fixture verifies, with its format, covered objects and signers', async () => {
  assert.equal(Object.keys(expected).sort(), FIXTURE_NAMES.filter((n) => n.includes('signed')));
  for (const [name, sigs] of Object.entries(expected)) {
    const r = await verifySif(fixture(name), all);
    assert.ok(r.ok, `${name}: ${JSON.stringify(r.signatures)}`);
    assert.equal(r.signatures.map((s) => ({ format: s.format, covers: s.covers })), sigs, name);
    for (const s of r.signatures) {
      if (s.format === 'dsse') assert.is(s.signers.length, 2, 'the DSSE fixtures carry two signatures (two of the PEM keys)');
      else assert.equal(s.signers, [PGP_FP]);
    }
  }
});

test('a DSSE signature verifies with each single key that made it, and not with the other', async () => {
  const results: Record<string, boolean> = {};
  for (const k of ['ecdsa-public.pem', 'ed25519-public.pem', 'rsa-public.pem']) {
    results[k] = (await verifySif(fixture('one-group-signed-dsse.sif'), await loadKeys([join(KEYS, k)]))).ok;
  }
  assert.is(Object.values(results).filter(Boolean).length, 2, JSON.stringify(results));
});

async function tampered(name: string, at: number, keys = all): Promise<{ ok: boolean; errors: string[] }> {
  const s = scratch();
  try {
    const file = s.copy(name);
    const buf = readFileSync(file);
    buf[at] ^= 0x01;
    writeFileSync(file, buf);
    try {
      const r = await verifySif(file, keys);
      return { ok: r.ok, errors: r.signatures.filter((x) => !x.ok).map((x) => x.error ?? '') };
    } catch (err) {
      return { ok: false, errors: [(err as Error).message] };
    }
  } finally {
    s.done();
  }
}

test('tampered object data fails, naming the object (PGP, DSSE, legacy)', async () => {
  const img = readSif(fixture('two-groups-signed-dsse.sif'));
  let r = await tampered('two-groups-signed-dsse.sif', img.descriptors[2].offset + 100);
  assert.is(r.ok, false);
  assert.equal(r.errors, ['object 3 data integrity compromised (digest mismatch)']);
  r = await tampered('one-group-signed-pgp.sif', 36864 + 5);
  assert.equal(r.errors, ['object 2 data integrity compromised (digest mismatch)']);
  r = await tampered('one-group-signed-legacy.sif', 36864 + 1);
  assert.equal(r.errors, ['object(s) 2 integrity compromised (digest mismatch)']);
  r = await tampered('one-group-signed-legacy-group.sif', 32768);
  assert.equal(r.errors, ['object(s) 1, 2 integrity compromised (digest mismatch)']);
});

test('tampered header ID, descriptor or signature bytes fail', async () => {
  assert.equal((await tampered('one-group-signed-pgp.sif', 50)).errors, ['global header integrity compromised (digest mismatch)']);
  assert.equal((await tampered('one-group-signed-pgp.sif', 4096 + D.name + 3)).errors, ['object 1 descriptor integrity compromised (digest mismatch)']);
  const sig = readSif(fixture('one-group-signed-dsse.sif')).descriptors[2];
  const text = readFileSync(fixture('one-group-signed-dsse.sif')).subarray(sig.offset, sig.offset + sig.size).toString();
  const r = await tampered('one-group-signed-dsse.sif', sig.offset + text.indexOf('"payload":"') + 40);
  assert.equal(r.errors, ['DSSE signature not valid for the given keys']);
  // The envelope holds two signatures and one valid one is enough (threshold 1, as the reference).
  const one = await loadKeys([join(KEYS, 'ed25519-public.pem'), join(KEYS, 'ecdsa-public.pem'), join(KEYS, 'rsa-public.pem')]);
  assert.is((await tampered('one-group-signed-dsse.sif', sig.offset + text.indexOf('"sig":"') + 12, one)).ok, true);
  const pgpSig = readSif(fixture('one-group-signed-pgp.sif')).descriptors[2];
  const r2 = await tampered('one-group-signed-pgp.sif', pgpSig.offset + 60);
  assert.is(r2.ok, false);
});

test('every covered byte of a DSSE-signed image is protected', async () => {
  const name = 'one-group-signed-dsse.sif';
  const img = readSif(fixture(name));
  const keys = await loadKeys([join(KEYS, 'ed25519-public.pem')]);
  const covered: number[] = [];
  for (let i = 0; i < 64; i++) if (i < 45 || i >= 48) covered.push(i); // launch, magic, version, ID
  for (const d of img.descriptors.slice(0, 2)) {
    const base = 4096 + d.slot * 585;
    for (const [a, b] of [[D.dataType, D.groupId], [D.linkedId, D.offset], [D.size, D.sizeWithPadding], [D.createdAt, D.modifiedAt], [D.uid, 585]]) {
      for (let i = a; i < b; i += a >= D.name ? 17 : 1) covered.push(base + i);
    }
    for (let i = 0; i < d.size; i += 97) covered.push(d.offset + i);
  }
  const buf = readFileSync(fixture(name));
  const s = scratch();
  try {
    const file = join(s.dir, name);
    for (const at of covered) {
      const copy = Buffer.from(buf);
      copy[at] ^= 0x80;
      writeFileSync(file, copy);
      let ok = false;
      try {
        ok = (await verifySif(file, keys)).ok;
      } catch {
        ok = false;
      }
      assert.is(ok, false, `byte ${at} changed and the image still verified`);
    }
  } finally {
    s.done();
  }
});

test('a wrong key fails: another OpenPGP key, another Ed25519 key', async () => {
  const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'Other' }], format: 'object' });
  const other: VerifyKeys = { pgp: [privateKey.toPublic()], pem: [] };
  const r = await verifySif(fixture('one-group-signed-pgp.sif'), other);
  assert.equal(r.signatures.map((x) => x.error), ['OpenPGP signature not valid for the given keys']);
  const ed = generateKeyPairSync('ed25519').publicKey;
  const r2 = await verifySif(fixture('one-group-signed-dsse.sif'), { pgp: [], pem: [{ file: 'x', key: ed }] });
  assert.equal(r2.signatures.map((x) => x.error), ['DSSE signature not valid for the given keys']);
});

test('a forged fingerprint in the signature descriptor fails', async () => {
  const r = await tampered('one-group-signed-legacy.sif', 4096 + 2 * 585 + D.extra + 4 + 3);
  assert.match(r.errors[0], /does not match the fingerprint/);
});

test('no signature, no key, unusable key: clear errors', async () => {
  await verifySif(fixture('one-group.sif'), all).then(() => assert.unreachable(), (e: unknown) => assert.ok(e instanceof SifVerifyError && /no signature objects/.test((e as Error).message)));
  await verifySif(fixture('one-group-signed-pgp.sif'), { pgp: [], pem: [] }).then(() => assert.unreachable(), (e: unknown) => assert.ok(e instanceof SifInputError));
  const r = cli('sif', 'verify', fixture('one-group-signed-pgp.sif'), '--key', fixture('one-group.sif'));
  assert.is(r.status, 52);
  assert.match(r.stderr, /unusable key: no armored OpenPGP key or PEM block/);
});

test('CLI verify: report lines and exit 0; tampered copy exits 51 naming the defect; --json', () => {
  const ok = cli('sif', 'verify', fixture('two-groups-signed-dsse.sif'), '--key', join(KEYS, 'ecdsa-public.pem'), '--key', join(KEYS, 'rsa-public.pem'), '--key', join(KEYS, 'ed25519-public.pem'));
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^ok {4}signature 4 \(dsse\) covering objects 1, 2, signed by [0-9a-f]{64}, [0-9a-f]{64}$/m);
  assert.match(ok.stdout, /^ok {4}signature 5 \(dsse\) covering objects 3/m);
  const s = scratch();
  try {
    const file = s.copy('two-groups-signed-pgp.sif');
    const buf = readFileSync(file);
    buf[40960 + 10] ^= 1;
    writeFileSync(file, buf);
    const bad = cli('sif', 'verify', file, '--key', join(KEYS, 'private.asc'));
    assert.is(bad.status, 51);
    assert.match(bad.stdout, /^ok {4}signature 4 \(pgp\) covering objects 1, 2, signed by 12045C8C/m);
    assert.match(bad.stdout, /^FAIL {2}signature 5 \(pgp\): object 3 data integrity compromised/m);
    assert.is(bad.stderr, `sifkube: ${file}: verification failed: signature 5: object 3 data integrity compromised (digest mismatch)\n`);
    const json = JSON.parse(cli('sif', 'verify', file, '--key', join(KEYS, 'private.asc'), '--json').stdout) as { ok: boolean; signatures: { ok: boolean }[] };
    assert.is(json.ok, false);
    assert.equal(json.signatures.map((x) => x.ok), [true, false]);
  } finally {
    s.done();
  }
});

test.run();
