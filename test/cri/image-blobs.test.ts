import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../../src/cri/index.js';

// One store shared by several processes (a cluster's nodes): a layer one of them is pulling is kept
// from another's sweep; the folder of a process that died is discarded, with what it half-wrote.
const storeModule = new URL('../../src/cri/index.js', import.meta.url).pathname;

function digest(data: string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

async function putBlob(store: ImageStore, data: string): Promise<string> {
  const d = digest(data);
  await store.blobs.ensure(d, async (file) => writeFileSync(file, data));
  return d;
}

test('a layer pinned by a pull of another store sharing the folder survives its sweep, and is freed once the pull is gone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sk-blobs-'));
  const a = new ImageStore(dir, 'a');
  const b = new ImageStore(dir, 'b');
  try {
    const kept = await putBlob(a, 'layer one');
    const loose = await putBlob(a, 'layer two');
    const pull = join(a.tmpDir, 'pull1');
    mkdirSync(pull);
    a.pin(pull, [kept]);
    assert.equal(await b.collect(), [loose]);
    assert.ok(existsSync(a.blobs.path(kept)));
    rmSync(pull, { recursive: true });
    assert.equal(await b.collect(), [kept]);
    assert.equal(a.blobs.list(), []);
  } finally {
    a.close();
    b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the folder of a process killed mid-pull is discarded by the next sweep (its pins no longer hold layers); a live one is not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sk-blobs-'));
  const live = new ImageStore(dir, 'live');
  let child: ChildProcess | undefined;
  try {
    const layer = await putBlob(live, 'pinned by the dead one');
    // A process of its own opens the store, pins the layer, half-writes a blob, and is killed.
    const script = `const { ImageStore } = await import(${JSON.stringify(storeModule)});
      const { mkdirSync, writeFileSync } = await import('node:fs');
      const s = new ImageStore(${JSON.stringify(dir)}, 'dead');
      mkdirSync(s.tmpDir + '/pull');
      s.pin(s.tmpDir + '/pull', [${JSON.stringify(layer)}]);
      writeFileSync(s.tmpDir + '/blob-x.part', 'half');
      console.log(s.tmpDir);
      setInterval(() => {}, 1000);`;
    child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const deadDir = await new Promise<string>((resolve) => child!.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
    for (let i = 0; i < 200 && !existsSync(join(deadDir, 'live')); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await live.collect(), [], 'alive: its pin holds the layer');
    assert.ok(existsSync(deadDir));
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    assert.equal(await live.collect(), [layer]);
    assert.not.ok(existsSync(deadDir), 'discarded with its half-written blob');
    assert.equal(readdirSync(join(dir, 'tmp')), [live.tmpDir.split('/').pop()]);
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    live.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
