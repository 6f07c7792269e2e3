// Signing: byte-for-byte what the reference library's pkg/integrity writes (DSSE is deterministic
// for Ed25519 and RSA, so the reference fixtures can be rebuilt exactly), round trips for every key
// type `key new` makes, several signers, tampering after signing, the signed-images policy check,
// and bad keys.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as openpgp from 'openpgp';
import { join } from 'node:path';
import { createSif, D, DataType, H, KEY_TYPES, listKeys, loadKeyring, loadKeys, newKey, readSif, signSif, SifKeyError, SifWriteError, unsignedReason, verifySif } from '../../src/sif/index.js';
import { cli, fixture, KEYS, scratch } from '../helpers/sif.js';

const PGP_FP = '12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84';

function flip(file: string, at: number): void {
  const buf = readFileSync(file);
  buf[at] ^= 0x01;
  writeFileSync(file, buf);
}

test('DSSE signatures are byte-identical to the reference fixtures (Ed25519 + RSA in one envelope)', async () => {
  const s = scratch();
  try {
    for (const name of ['one-group', 'two-groups']) {
      const file = s.copy(`${name}.sif`);
      const r = await signSif(file, { keys: [join(KEYS, 'ed25519-private.pem'), join(KEYS, 'rsa-private.pem')] });
      assert.equal(r.signatures.map((x) => x.format), name === 'one-group' ? ['dsse'] : ['dsse', 'dsse']);
      assert.ok(readFileSync(file).equals(readFileSync(fixture(`${name}-signed-dsse.sif`))), `${name}: signed copy differs from ${name}-signed-dsse.sif`);
    }
  } finally {
    s.done();
  }
});

test('an OpenPGP signature has the reference layout: metadata text, SHA-256, fingerprint, link to the group', async () => {
  const s = scratch();
  try {
    const file = s.copy('one-group.sif');
    await signSif(file, { keys: [join(KEYS, 'private.asc')] });
    const [mine, ref] = [readSif(file), readSif(fixture('one-group-signed-pgp.sif'))];
    const [a, b] = [mine.descriptors[2], ref.descriptors[2]];
    assert.equal({ type: a.dataType, group: a.group, link: a.link, linkIsGroup: a.linkIsGroup, sig: a.signature }, { type: b.dataType, group: b.group, link: b.link, linkIsGroup: b.linkIsGroup, sig: b.signature });
    assert.equal(a.signature, { hashType: 1, entity: PGP_FP });
    const text = (img: typeof mine, d: typeof a) => readFileSync(img.path).subarray(d.offset, d.offset + d.size).toString();
    const signed = (t: string) => t.slice(0, t.indexOf('-----BEGIN PGP SIGNATURE-----'));
    assert.is(signed(text(mine, a)), signed(text(ref, b)));
    assert.ok((await verifySif(file, await loadKeys([join(KEYS, 'private.asc')]))).ok);
  } finally {
    s.done();
  }
});

test('GnuPG, another OpenPGP implementation, accepts the clear-signed metadata (a key of `key new`, the reference key)', async () => {
  const s = scratch();
  try {
    const k = await newKey({ type: 'pgp', dir: join(s.dir, 'keys'), name: 'GnuPG Check' });
    const reference = join(s.dir, 'reference.pub');
    writeFileSync(reference, (await openpgp.readPrivateKey({ armoredKey: readFileSync(join(KEYS, 'private.asc'), 'utf8') })).toPublic().armor());
    for (const [priv, pub, fp] of [[k.privateFile, k.publicFile, k.fingerprint], [join(KEYS, 'private.asc'), reference, PGP_FP]]) {
      const file = s.copy('one-group.sif');
      await signSif(file, { keys: [priv] });
      const sig = readSif(file).descriptors[2];
      const message = join(s.dir, 'sig.asc');
      writeFileSync(message, readFileSync(file).subarray(sig.offset, sig.offset + sig.size));
      const home = join(s.dir, `gnupg-${fp}`);
      mkdirSync(home, { mode: 0o700 });
      const gpg = (...args: string[]) => spawnSync('gpg', ['--homedir', home, '--batch', '--no-autostart', '--status-fd', '1', ...args], { encoding: 'utf8' });
      assert.is(gpg('--import', pub).status, 0);
      const v = gpg('--verify', message);
      assert.is(v.status, 0, v.stdout + v.stderr);
      assert.match(v.stdout, new RegExp(`\\[GNUPG:\\] VALIDSIG ${fp} `));
    }
  } finally {
    s.done();
  }
});

test('every key type: key new → sign → verify with the .pub; another key of that type fails', async () => {
  const s = scratch();
  try {
    for (const type of KEY_TYPES) {
      const k = await newKey({ type, dir: join(s.dir, 'keys') });
      const other = await newKey({ type, dir: join(s.dir, 'other') });
      assert.is(statSync(k.privateFile).mode & 0o777, 0o600, `${type} private key mode`);
      const file = s.copy('two-groups.sif');
      const r = await signSif(file, { keys: [k.privateFile] });
      assert.equal(r.signatures.map((x) => ({ group: x.group, covers: x.covers, format: x.format })), [
        { group: 1, covers: [1, 2], format: type === 'pgp' ? 'pgp' : 'dsse' },
        { group: 2, covers: [3], format: type === 'pgp' ? 'pgp' : 'dsse' },
      ]);
      const ok = await verifySif(file, await loadKeys([k.publicFile]));
      assert.ok(ok.ok, `${type}: ${JSON.stringify(ok.signatures)}`);
      assert.equal(ok.signatures.map((x) => x.signers), [[k.fingerprint], [k.fingerprint]]);
      assert.is((await verifySif(file, await loadKeys([other.publicFile]))).ok, false, `${type}: verified with another key`);
    }
    const listed = await listKeys(join(s.dir, 'keys'));
    assert.equal(listed.map((k) => `${k.type}/${k.private ? 'private' : 'public'}`).sort(), KEY_TYPES.flatMap((t) => [`${t}/private`, `${t}/public`]).sort());
  } finally {
    s.done();
  }
});

test('signing twice with two keys gives two signatures, both verified; --group and --object sign less', async () => {
  const s = scratch();
  try {
    const file = s.copy('two-groups.sif');
    await signSif(file, { keys: [join(KEYS, 'private.asc')], group: 2 });
    await signSif(file, { keys: [join(KEYS, 'ecdsa-private.pem')], group: 2 });
    const r = await verifySif(file, await loadKeys([join(KEYS, 'private.asc'), join(KEYS, 'ecdsa-public.pem')]));
    assert.ok(r.ok);
    assert.equal(r.signatures.map((x) => [x.signatureId, x.format, x.covers]), [[4, 'pgp', [3]], [5, 'dsse', [3]]]);
    // One object of a two-object group: verifying the whole group names the object left out.
    const part = s.copy('one-group.sif');
    const p = await signSif(part, { keys: [join(KEYS, 'ecdsa-private.pem')], objects: [2] });
    assert.equal(p.signatures.map((x) => x.covers), [[2]]);
    const ecdsa = await loadKeys([join(KEYS, 'ecdsa-public.pem')]);
    const v = await verifySif(part, ecdsa);
    assert.equal(v.signatures.map((x) => x.error), ['object(s) 1 of group 1 not covered by the signature']);
    // Verifying the signed object alone passes (as the reference verifier with an object selected).
    const only = await verifySif(part, ecdsa, { objects: [2] });
    assert.equal(only.signatures.map((x) => [x.ok, x.covers]), [[true, [2]]]);
    assert.equal((await verifySif(part, ecdsa, { objects: [1] })).signatures.map((x) => x.error), ['object(s) 1 of group 1 not covered by the signature']);
    // --group: the signatures of that group only.
    assert.equal((await verifySif(file, await loadKeys([join(KEYS, 'ecdsa-public.pem')]), { group: 2 })).signatures.map((x) => [x.signatureId, x.ok]), [[4, false], [5, true]]);
    await verifySif(file, ecdsa, { group: 1 }).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /group 1 has no signature objects: sign it first/));
    const cliOnly = cli('sif', 'verify', part, '--key', join(KEYS, 'ecdsa-public.pem'), '--object', '2');
    assert.is(cliOnly.status, 0, cliOnly.stderr);
    assert.is(cli('sif', 'verify', part, '--key', join(KEYS, 'ecdsa-public.pem'), '--object', '1').status, 51);
  } finally {
    s.done();
  }
});

test('too few free descriptor slots: refused before anything is written', async () => {
  const s = scratch();
  try {
    const file = join(s.dir, 'full.sif');
    createSif(file, { descriptorsTotal: 3, objects: [1, 2].map((g) => ({ dataType: DataType.Generic, data: Buffer.from(`group ${g}`), group: g })) });
    const before = readFileSync(file);
    await signSif(file, { keys: [join(KEYS, 'private.asc'), join(KEYS, 'ecdsa-private.pem')] }).then(
      () => assert.unreachable(),
      (e: Error) => assert.ok(e instanceof SifWriteError && /4 signature objects need 4 free descriptor slots, the image has 1/.test(e.message), e.message),
    );
    assert.ok(readFileSync(file).equals(before), 'the image is unchanged');
  } finally {
    s.done();
  }
});

test('a header, descriptor or object changed after signing is refused, naming what changed', async () => {
  const s = scratch();
  try {
    for (const key of ['private.asc', 'ecdsa-private.pem']) {
      const keys = await loadKeys([join(KEYS, key)]);
      const signedCopy = () => {
        const file = s.copy('one-group.sif');
        return signSif(file, { keys: [join(KEYS, key)] }).then(() => file);
      };
      const cases: [number, string][] = [
        [H.id + 2, 'global header integrity compromised (digest mismatch)'],
        [4096 + 585 + D.name + 1, 'object 2 descriptor integrity compromised (digest mismatch)'],
        [readSif(fixture('one-group.sif')).descriptors[0].offset + 1, 'object 1 data integrity compromised (digest mismatch)'],
      ];
      for (const [at, error] of cases) {
        const file = await signedCopy();
        flip(file, at);
        const r = await verifySif(file, keys);
        assert.equal(r.signatures.map((x) => x.error), [error], `${key}, byte ${at}`);
        assert.is(await unsignedReason(file, keys), `signature 3 (${key.endsWith('.asc') ? 'pgp' : 'dsse'}): ${error}`);
      }
    }
  } finally {
    s.done();
  }
});

test('the signed-images policy: unsigned, legacy only, other key, partly covered, signed', async () => {
  const keys = await loadKeys([join(KEYS, 'private.asc')]);
  assert.is(await unsignedReason(fixture('one-group.sif'), keys), 'the image has no signature');
  assert.match((await unsignedReason(fixture('one-group-signed-legacy-group.sif'), keys)) ?? '', /only legacy signatures/);
  assert.match((await unsignedReason(fixture('one-group-signed-dsse.sif'), keys)) ?? '', /^no key of the keyring made its signature\(s\): 3 \(dsse\)$/);
  assert.is(await unsignedReason(fixture('two-groups-signed-pgp.sif'), keys), undefined);
  const s = scratch();
  try {
    const file = s.copy('two-groups.sif');
    await signSif(file, { keys: [join(KEYS, 'private.asc')], group: 1 });
    assert.is(await unsignedReason(file, keys), 'object(s) 3 not covered by a signature of a keyring key');
  } finally {
    s.done();
  }
});

test('keyrings: a folder of .pub files, a file of several keys; private keys and junk refused', async () => {
  const s = scratch();
  try {
    const a = await newKey({ type: 'ed25519', dir: join(s.dir, 'ring') });
    const b = await newKey({ type: 'pgp', dir: join(s.dir, 'ring'), name: 'Ring', email: 'ring@example.org' });
    const ring = await loadKeyring(join(s.dir, 'ring'));
    assert.equal([ring.pem.length, ring.pgp.length], [1, 1]);
    const one = join(s.dir, 'one.asc');
    writeFileSync(one, readFileSync(a.publicFile, 'utf8') + readFileSync(b.publicFile, 'utf8'));
    const r2 = await loadKeyring(one);
    assert.equal([r2.pem.length, r2.pgp.length], [1, 1]);
    const priv = join(s.dir, 'priv.pem');
    writeFileSync(priv, readFileSync(a.privateFile));
    await loadKeyring(priv).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /priv\.pem: unusable key: it holds a private key: a keyring holds public keys only/));
    const junk = join(s.dir, 'junk.pub');
    writeFileSync(junk, '-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n');
    await loadKeyring(junk).then(() => assert.unreachable(), (e: Error) => assert.ok(e instanceof SifKeyError && (e as SifKeyError).exitCode === 52 && e.message.startsWith(`${junk}: unusable key:`), e.message));
    await loadKeyring(join(s.dir, 'missing')).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /missing: unusable key: cannot read the keyring \(ENOENT\)/));
  } finally {
    s.done();
  }
});

test('CLI: key new/list, sif sign, bad keys and inputs exit in the SIF range naming the input and the fix', () => {
  const s = scratch();
  try {
    const dir = join(s.dir, 'keys');
    const made = cli('key', 'new', '--type', 'ecdsa', '--out', dir);
    assert.is(made.status, 0, made.stderr);
    const key = readdirSync(dir).find((f) => f.endsWith('.key'))!;
    const pub = join(dir, key.replace(/\.key$/, '.pub'));
    assert.match(cli('key', 'list', dir).stdout, /^ecdsa {3}private {2}[0-9a-f]{64} {2}.*\.key$/m);
    const file = s.copy('one-group.sif');
    const signed = cli('sif', 'sign', file, '--key', join(dir, key));
    assert.is(signed.status, 0, signed.stderr);
    assert.match(signed.stdout, /^signature 3 \(dsse\) over group 1, objects 1, 2, by [0-9a-f]{64}$/m);
    assert.is(cli('sif', 'verify', file, '--key', pub).status, 0);
    const cases: [string[], number, RegExp][] = [
      [['sif', 'sign', file, '--key', pub], 52, /unusable key: it is a public key, which cannot sign: pass the private key/],
      [['sif', 'sign', file, '--key', join(s.dir, 'nope.key')], 52, /nope\.key: unusable key: cannot read it \(ENOENT\)/],
      [['sif', 'sign', file, '--key', fixture('one-group.sif')], 52, /no armored OpenPGP key or PEM block in it/],
      [['sif', 'sign', file, '--key', join(dir, key), '--object', '3'], 55, /object 3 is a signature/],
      [['sif', 'sign', file, '--key', join(dir, key), '--group', '9'], 55, /group 9 has no objects/],
      [['sif', 'sign', fixture('empty.sif'), '--key', join(dir, key)], 50, /nothing to sign/],
      [['key', 'new', '--type', 'dsa', '--out', dir], 55, /--type dsa is not a key type: use one of pgp, ecdsa, ed25519, rsa/],
      [['key', 'list', join(s.dir, 'none')], 55, /cannot list the key folder \(ENOENT\)/],
    ];
    const x25519 = join(s.dir, 'x25519.pem');
    writeFileSync(x25519, generateKeyPairSync('x25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    cases.push([['sif', 'sign', file, '--key', x25519], 52, /x25519 keys cannot sign SIF images: use an ECDSA, Ed25519, RSA or OpenPGP key/]);
    for (const [args, status, message] of cases) {
      const r = cli(...args);
      assert.is(r.status, status, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.is(readSif(file).descriptors.filter((d) => d.dataType === DataType.Signature).length, 1, 'a refused sign added nothing');
  } finally {
    s.done();
  }
});

test.run();
