import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore, type ImageRecord } from '../../src/cri/index.js';

// One store shared by several CRI servers (a cluster's nodes), each seeing it through its scope.
function record(store: ImageStore, n: number): ImageRecord {
  const id = `sha256:${String(n).repeat(64).slice(0, 64)}`;
  writeFileSync(store.sifPath(id), `sif ${n}`);
  return { id, repoTags: [], repoDigests: [], size: 5, sif: store.sifPath(id), config: {}, external: false };
}

const tags = (s: ImageStore) => s.list().flatMap((i) => i.repoTags);

test('a restricted image: seen only by its scopes; visibility widens by pulls and loads; a scoped delete only hides', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sk-scopes-'));
  try {
    const host = new ImageStore(dir);
    const a = new ImageStore(dir, 'a');
    const b = new ImageStore(dir, 'b');
    const c = new ImageStore(dir, 'c');
    const one = host.put(record(host, 1), ['x/one:v1'], [], ['a']);
    host.put(record(host, 2), ['x/all:v1'], []);
    assert.equal(one.scopes, ['a']);
    assert.equal(tags(host), ['x/one:v1', 'x/all:v1']);
    assert.equal(tags(a), ['x/one:v1', 'x/all:v1']);
    assert.equal(tags(b), ['x/all:v1']);
    assert.is(b.byId(one.id), undefined);
    assert.is(b.byTag('x/one:v1'), undefined);
    assert.ok(b.known(one.id), 'known: a pull of it needs no conversion');
    // b writing the index (a pull of another image) keeps the image it does not see.
    const four = b.put(record(b, 4), ['x/four:v1'], []);
    assert.equal(tags(host), ['x/one:v1', 'x/all:v1', 'x/four:v1']);
    b.delete(four.id);
    // b pulls the same image: it sees it too, a still does, c not.
    b.put(b.known(one.id)!, ['x/one:v1'], []);
    assert.equal(host.byId(one.id)!.scopes, ['a', 'b']);
    assert.equal(tags(c), ['x/all:v1']);
    // a removes it: hidden from a only, the file stays for b.
    a.delete(one.id);
    assert.equal(tags(a), ['x/all:v1']);
    assert.equal(tags(b), ['x/one:v1', 'x/all:v1']);
    assert.ok(existsSync(one.sif));
    // a load for every node makes it visible to all; a later restricted load does not narrow it.
    host.put(host.byId(one.id)!, [], []);
    host.put(host.byId(one.id)!, [], [], ['c']);
    assert.is(host.byId(one.id)!.scopes, undefined);
    assert.equal(tags(c), ['x/one:v1', 'x/all:v1']);
    // The last scope's delete removes the image and its file.
    const three = host.put(record(host, 3), ['x/three:v1'], [], ['c']);
    c.delete(three.id);
    assert.is(host.byId(three.id), undefined);
    assert.not.ok(existsSync(three.sif));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
