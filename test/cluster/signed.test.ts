// requireSigned at the cluster level without Kubernetes: the config and init flag read the keyring
// (kept in the cluster's state), a corrupt keyring fails init before anything is made, `image load`
// refuses an unsigned SIF with the CRI's message and loads a signed one, and each node's CRI config
// names the keyring.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterLeftovers, clusterNames, defaultClusterConfig, deleteCluster, nodeCriConfig, nodeLayout, parseClusterConfig, prepareCluster } from '../../src/cluster/index.js';
import { buildSif, newKey, signSif } from '../../src/sif/index.js';
import { diffSnapshots, hostSnapshot } from '../helpers/leaks.js';
import { BIN, makeRootfs } from '../helpers/sif.js';

const tag = randomBytes(3).toString('hex');
const name = `t-sign-${tag}`;
const work = mkdtempSync(join(tmpdir(), 'sk-signed-cluster-'));
const sifkube = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

test.after(() => rmSync(work, { recursive: true, force: true }));

test('requireSigned in the config file: read at validation, kept as text; bad values name the field or file', async () => {
  const k = await newKey({ type: 'ecdsa', dir: join(work, 'cfg-keys') });
  const doc = (v: string) => `apiVersion: sifkube.io/v1alpha1\nkind: Cluster\nrequireSigned: ${v}\n`;
  const c = parseClusterConfig(doc(k.publicFile), 'c.yaml');
  assert.is(c.requireSigned?.source, k.publicFile);
  assert.match(c.requireSigned?.keyring ?? '', /^-----BEGIN PUBLIC KEY-----/);
  assert.throws(() => parseClusterConfig(doc('5'), 'c.yaml'), /c\.yaml: requireSigned: expected a non-empty string, got 5/);
  assert.throws(() => parseClusterConfig(doc('/nonexistent/ring'), 'c.yaml'), /\/nonexistent\/ring: unusable key: cannot read the keyring \(ENOENT\)/);
  // The flag wins over the file.
  const d = await newKey({ type: 'ed25519', dir: join(work, 'flag-keys') });
  assert.is(parseClusterConfig(doc(k.publicFile), 'c.yaml', { requireSigned: d.publicFile }).requireSigned?.source, d.publicFile);
});

test('init --require-signed with a corrupt keyring exits 52 naming it, before creating anything', () => {
  const bad = join(work, 'bad.pub');
  writeFileSync(bad, '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----\n');
  const r = sifkube('init', '--name', `${name}x`, '--require-signed', bad, '--kube-bin-dir', work);
  assert.is(r.status, 52, r.stderr);
  assert.match(r.stderr, new RegExp(`^sifkube: ${bad}: unusable key: `));
  assert.not.ok(existsSync(clusterNames(`${name}x`).stateDir));
});

test('image load under requireSigned: an unsigned SIF is refused with the CRI message, a signed one loads; nodes get the keyring', async () => {
  const before = hostSnapshot();
  const keys = join(work, 'keys');
  const k = await newKey({ type: 'pgp', dir: keys, name: 'Cluster Signer' });
  const unsigned = join(work, 'app.sif');
  buildSif({ rootfs: makeRootfs(work), out: unsigned, deterministic: true, imageConfig: { cmd: ['sh'] } });
  const signed = join(work, 'app-signed.sif');
  copyFileSync(unsigned, signed);
  await signSif(signed, { keys: [k.privateFile] });
  const { state } = await prepareCluster(defaultClusterConfig(name, 1, undefined, undefined, keys));
  try {
    assert.is(state.plan.requireSigned?.source, keys);
    const refused = sifkube('image', 'load', '--name', name, unsigned);
    assert.is(refused.status, 96, refused.stderr);
    assert.is(
      refused.stderr.trim(),
      `sifkube: ${unsigned}: refused by the signed-images policy (requireSigned): not signed by a key of the keyring: the image has no signature: sign it with \`sifkube sif sign ${unsigned} --key KEY\` using a private key whose public key is in the keyring, then use the signed file`,
    );
    const store = join(state.plan.names.stateDir, 'images', 'sif');
    assert.not.ok(existsSync(store) && readdirSync(store).length > 0, 'nothing copied');
    const loaded = sifkube('image', 'load', '--name', name, signed, '--tag', 'example.org/app:v1');
    assert.is(loaded.status, 0, loaded.stderr);
    assert.is(readdirSync(store).length, 1);
    const node = state.plan.nodes[0];
    assert.is(nodeCriConfig(state.plan, nodeLayout(state.plan, node), state.config.registry).requireSigned, join(nodeLayout(state.plan, node).dir, 'keyring.asc'));
  } finally {
    await deleteCluster(name, join(work, 'kubeconfig'));
  }
  assert.equal(clusterLeftovers(name), []);
  const ours = (l: string) => l.includes(name) || l.includes(clusterNames(name).id) || l.includes(tag);
  assert.equal(diffSnapshots(before, hostSnapshot()).filter(ours), []);
});

test.run();
