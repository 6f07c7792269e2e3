import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterLeftovers, clusterNames, deleteCluster, readClusterState } from '../../src/cluster/index.js';
import { buildSif, DataType, deleteObject, newKey, primaryPartition, readSif, signSif } from '../../src/sif/index.js';
import { diffSnapshots, hostSnapshot } from '../helpers/leaks.js';
import { kubeSets, missing } from '../helpers/kube-sets.js';
import { BIN, makeRootfs } from '../helpers/sif.js';

// Signed images end to end with real Kubernetes binaries (the first set of SIFKUBE_KUBE_SETS, or
// SIFKUBE_KUBE_BIN_DIR): a 1-node cluster made with --require-signed runs a signed SIF; `image load`
// refuses an unsigned one; and an image whose stored SIF lost its signature, or changed after
// signing, is refused at container creation with the reason in `kubectl describe pod`.
const binDir = kubeSets()[0];
const title = 'init --require-signed → signed pod runs → unsigned load refused → unsigned and tampered images refused in describe pod → delete, clean host';

if (!binDir) {
  console.log(`skipped: ${title}: ${missing('SIFKUBE_KUBE_SETS')}`);
  test.skip(title, () => undefined);
} else {
  test(title, async () => {
    const tag = randomBytes(3).toString('hex');
    const name = `t-e2es-${tag}`;
    const work = join('/tmp', `sk-e2e-signed-${tag}`);
    mkdirSync(work);
    const kubeconfig = join(work, 'kubeconfig');
    const sifkube = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000 });
    const k = (...args: string[]) => sifkube('kubectl', '--name', name, '--', ...args);
    const before = hostSnapshot();
    try {
      const key = await newKey({ type: 'ecdsa', dir: join(work, 'keys') });
      const rootfs = makeRootfs(work);
      // Three signed images (different image configs, so different digests) and one unsigned.
      const sifs: Record<string, string> = {};
      for (const img of ['signed', 'stripped', 'tampered', 'unsigned']) {
        sifs[img] = join(work, `${img}.sif`);
        buildSif({ rootfs, out: sifs[img], deterministic: true, imageConfig: { cmd: ['sh'], env: [`IMAGE=${img}`] } });
        if (img !== 'unsigned') await signSif(sifs[img], { keys: [key.privateFile] });
      }
      const init = sifkube('init', '--name', name, '--nodes', '1', '--kube-bin-dir', binDir, '--wait', '3m', '--kubeconfig', kubeconfig, '--require-signed', join(work, 'keys'));
      assert.is(init.status, 0, init.stdout + init.stderr);

      const refused = sifkube('image', 'load', '--name', name, sifs.unsigned);
      assert.is(refused.status, 96);
      assert.match(refused.stderr, 'refused by the signed-images policy (requireSigned): not signed by a key of the keyring: the image has no signature: sign it with `sifkube sif sign');
      for (const img of ['signed', 'stripped', 'tampered']) assert.is(sifkube('image', 'load', '--name', name, sifs[img], '--tag', `example.org/${img}:v1`).status, 0);
      // What lies in the store changes after loading: one loses its signature, one a byte of its root filesystem.
      const stored = (img: string) => join(readClusterState(name).plan.names.stateDir, 'images', 'sif', `${createHash('sha256').update(readFileSync(sifs[img])).digest('hex')}.sif`);
      const strippedFile = stored('stripped');
      deleteObject(strippedFile, readSif(strippedFile).descriptors.find((d) => d.dataType === DataType.Signature)!.id);
      const tamperedFile = stored('tampered');
      const part = primaryPartition(readSif(tamperedFile))!;
      const bytes = readFileSync(tamperedFile);
      bytes[part.offset + part.size - 100] ^= 1;
      copyFileSync(tamperedFile, `${tamperedFile}.orig`);
      writeFileSync(tamperedFile, bytes);
      rmSync(`${tamperedFile}.orig`);

      const manifest = join(work, 'pods.yaml');
      const pod = (img: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${img}}\nspec:\n  containers:\n  - {name: app, image: example.org/${img}:v1, imagePullPolicy: Never, command: [busybox, sleep, '3600']}\n`;
      writeFileSync(manifest, ['signed', 'stripped', 'tampered'].map(pod).join('---\n'));
      assert.is(k('apply', '-f', manifest).status, 0);
      const ready = k('wait', '--for=condition=Ready', 'pod/signed', '--timeout=120s');
      assert.is(ready.status, 0, ready.stdout + ready.stderr + k('describe', 'pod', 'signed').stdout);
      const reason = async (img: string, want: string) => {
        let text = '';
        for (let i = 0; i < 60 && !text.includes(want); i++) {
          text = k('describe', 'pod', img).stdout;
          if (!text.includes(want)) await new Promise((r) => setTimeout(r, 1000));
        }
        assert.ok(text.includes(want), `describe pod ${img} lacks ${JSON.stringify(want)}:\n${text}`);
        assert.match(text, /refused by the signed-images policy \(requireSigned\)/);
        // The kubelet names the image by ID; the tag says which one, and the fix is to sign the user's file.
        assert.match(text, `(example.org/${img}:v1): refused`);
        assert.match(text, 'sign the SIF with `sifkube sif sign FILE --key KEY` using a private key whose public key is in the keyring, then `sifkube image load` the signed file');
      };
      await reason('stripped', 'not signed by a key of the keyring: the image has no signature');
      await reason('tampered', `(dsse): object ${part.id} data integrity compromised (digest mismatch)`);

      const del = sifkube('delete', '--name', name, '--kubeconfig', kubeconfig);
      assert.is(del.status, 0, del.stderr);
    } finally {
      await deleteCluster(name, kubeconfig).catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
    }
    assert.equal(clusterLeftovers(name), []);
    assert.equal(diffSnapshots(before, hostSnapshot()).filter((l) => l.includes(name) || l.includes(clusterNames(name).id)), []);
  });
}

test.run();
