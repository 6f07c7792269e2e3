import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { clusterLeftovers, deleteCluster, readClusterState } from '../../src/cluster/index.js';
import { clusterExampleDir } from '../../src/examples/index.js';
import { noChromium, rowMatches, uploadInPage } from '../helpers/browser.js';
import { catPhotos, skimagePhotos } from '../helpers/examples.js';
import { kubeSets, missing } from '../helpers/kube-sets.js';
import { diffSnapshots, hostSnapshot } from '../helpers/leaks.js';
import { BIN } from '../helpers/sif.js';

// The three examples on one cluster of the first upstream Kubernetes set, driven as a tutorial
// reader drives them: `sifkube example run NAME` (build or build cache, image load, apply, rollout),
// then the printed URL from the host. The photographs come from Debian's python3-skimage.
const sets = kubeSets();
const title = (v: string) =>
  `examples e2e ${v}: example run cats → /cats/good serves the packages' cat photographs; books → create/read/update/search/delete through the NodePort, surviving the API pod's deletion; tensorflow → a motorcycle and the cats example's kitten found, the host folders, the page in chromium; example list; example delete; host as before`;

if (sets.length === 0) {
  console.log(`skipped: ${title('(no set)')}: ${missing('SIFKUBE_KUBE_SETS')}`);
  test.skip(title('(no set)'), () => undefined);
}

/** fetch until it answers (a NodePort needs kube-proxy's rules, a new pod its readiness) */
async function fetchOk(url: string, init?: RequestInit, tries = 200): Promise<Response> {
  let last = '';
  for (let i = 0; i < tries; i++) {
    try {
      const r = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
      if (r.ok) return r;
      last = `${r.status} ${await r.text()}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url}: ${last}`);
}

if (sets.length > 0) {
  test(title(basename(sets[0])), async () => {
    const name = `t-ex-${randomBytes(3).toString('hex')}`;
    const work = mkdtempSync(join(tmpdir(), 'sk-ex-e2e-'));
    const kubeconfig = join(work, 'kubeconfig');
    const photos = skimagePhotos(['motorcycle_left.png'], catPhotos());
    const sifkube = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 900_000 });
    const ok = (r: ReturnType<typeof sifkube>) => {
      assert.is(r.status, 0, `exit ${r.status}\n${r.stdout}${r.stderr}`);
      return r.stdout;
    };
    const k = (...args: string[]) => ok(sifkube(['kubectl', '--name', name, '--', ...args]));
    const run = (example: string) => {
      const t0 = Date.now();
      const out = ok(sifkube(['example', 'run', example, '--name', name]));
      const url = /example \S+ is serving: (http:\/\/\S+)/.exec(out)?.[1];
      assert.ok(url, out);
      console.log(`example run ${example}: ${((Date.now() - t0) / 1000).toFixed(1)} s to serving`);
      return url!;
    };
    const before = hostSnapshot();
    try {
      ok(sifkube(['init', '--name', name, '--nodes', '2', '--kube-bin-dir', sets[0], '--wait', '3m', '--kubeconfig', kubeconfig]));
      const node0 = readClusterState(name).plan.nodes[0].address;

      // cats: the photographs' bytes, as the Debian packages ship them (labelme-examples, only in
      // Debian 12, which the image is built from, by its digest).
      const cats = run('cats');
      assert.is(cats, `http://${node0}:30180/cats/good`);
      assert.equal(await (await fetchOk(cats, { headers: { accept: 'application/json' } })).json(), ['/cats/good/cats-of-wikimedia-commons.jpg', '/cats/good/chelsea.png', '/cats/good/kitten.jpg']);
      for (const [n, type] of [['chelsea.png', 'image/png'], ['cats-of-wikimedia-commons.jpg', 'image/jpeg']]) {
        const photo = await fetchOk(`${cats}/${n}`);
        assert.is(photo.headers.get('content-type'), type, n);
        assert.ok(Buffer.from(await photo.arrayBuffer()).equals(readFileSync(join(photos, n))), `${n} from its package`);
      }
      const kitten = Buffer.from(await (await fetchOk(`${cats}/kitten.jpg`)).arrayBuffer());
      assert.is(createHash('sha256').update(kitten).digest('hex'), '4660d706cb6f3b36fe9d849666f3a4434e4c0d8b6f8ab79cf5c6d656b3de278d', 'kitten.jpg from labelme-examples 5.1.1-1');
      assert.match(await (await fetchOk(`http://${node0}:30180/`)).text(), /cat photographs/);

      // books: the round trip through the NodePort; the API pod deleted and recreated keeps the data.
      const books = run('books');
      const call = async (method: string, path: string, body?: unknown) => {
        const r = await fetch(`${books.replace(/\/books$/, '')}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
        return { status: r.status, body: await r.json() };
      };
      await fetchOk(books);
      const dune = await call('POST', '/books', { title: 'Dune', author: 'Frank Herbert', published_date: '1965', description: 'Sand.' });
      assert.is(dune.status, 201, JSON.stringify(dune));
      const emma = (await call('POST', '/books', { title: 'Emma', author: 'Jane Austen' })).body;
      assert.equal((await call('GET', `/books/${dune.body.id}`)).body, dune.body);
      assert.equal((await call('PUT', `/books/${dune.body.id}`, { description: 'Spice.' })).body.description, 'Spice.');
      assert.equal((await call('GET', '/books?q=austen')).body, [emma]);
      const bad = await call('POST', '/books', { author: 'Nobody' });
      assert.is(bad.status, 400);
      assert.match(bad.body.error, /title is required/);
      assert.equal(await call('POST', `/books/${emma.id}:delete`), { status: 200, body: emma });
      // Cluster DNS from a pod on the control-plane node (the database's), where the DNS server runs.
      const booksIp = k('get', 'service', 'books', '-o', 'jsonpath={.spec.clusterIP}');
      assert.match(k('exec', 'deploy/books-db', '--', 'getent', 'hosts', 'books.default.svc.cluster.local'), new RegExp(`^${booksIp.replaceAll('.', '\\.')}\\s+books\\.default\\.svc\\.cluster\\.local`));
      const old = k('get', 'pods', '-l', 'app=books', '-o', 'jsonpath={.items[0].metadata.name}');
      k('delete', 'pod', old, '--wait=true');
      const rollout = sifkube(['kubectl', '--name', name, '--', 'rollout', 'status', 'deployment/books', '--timeout=240s']);
      // On a miss, what the new pod went through, so the failure says why.
      const newPod = rollout.status === 0 ? '' : `${sifkube(['kubectl', '--name', name, '--', 'describe', 'pods', '-l', 'app=books']).stdout}\n${sifkube(['kubectl', '--name', name, '--', 'logs', '-l', 'app=books', '--tail=30']).stdout}`;
      assert.is(rollout.status, 0, `${rollout.stderr}\n${newPod}`);
      const after = (await (await fetchOk(`${books}?q=dune`)).json()) as { id: string; description: string }[];
      assert.equal(after, [{ ...dune.body, description: 'Spice.' }]);
      assert.not.match(k('get', 'pods', '-l', 'app=books', '-o', 'name'), new RegExp(old));

      // tensorflow: POST /classify, the host folders, the page.
      const tf = run('tensorflow');
      const moto = readFileSync(join(photos, 'motorcycle_left.png'));
      const result = (await (await fetchOk(`${tf}classify`, { method: 'POST', body: moto })).json()) as { labels: { label: string; score: number; box: number[] }[]; device: string; model: string };
      assert.is(result.labels[0].label, 'motorcycle', JSON.stringify(result));
      assert.ok(result.labels[0].score > 0.3, JSON.stringify(result.labels[0]));
      console.log(`tensorflow in the cluster: ${result.labels[0].label} ${result.labels[0].score} on ${result.device}`);
      // The cats example's kitten, as the cats Service serves it, classified by the tensorflow one.
      const kittenLabels = (await (await fetchOk(`${tf}classify`, { method: 'POST', body: kitten })).json()) as { labels: { label: string; score: number }[] };
      assert.is(kittenLabels.labels[0]?.label, 'cat', JSON.stringify(kittenLabels));
      const notImage = await fetch(`${tf}classify`, { method: 'POST', body: 'plain text' });
      assert.is(notImage.status, 400);
      const folders = clusterExampleDir(readClusterState(name), 'tensorflow');
      copyFileSync(join(photos, 'motorcycle_left.png'), join(folders, 'in', 'moto.png'));
      for (let i = 0; i < 300 && !existsSync(join(folders, 'out', 'moto.json')); i++) await new Promise((r) => setTimeout(r, 200));
      assert.is(JSON.parse(readFileSync(join(folders, 'out', 'moto.json'), 'utf8')).labels[0].label, 'motorcycle');
      assert.ok(readFileSync(join(folders, 'out', 'moto.annotated.png')).subarray(1, 4).equals(Buffer.from('PNG')));
      const why = noChromium();
      if (why) console.log(`skipped the page: ${why}`);
      else {
        const page = await uploadInPage(tf, join(photos, 'motorcycle_left.png'));
        assert.match(page.labels[0] ?? '', /^motorcycle — /, page.status);
        // The first box's top edge, drawn in red on the canvas (the best row around it).
        const [bx, by, bw] = result.labels[0].box;
        const best = Math.max(...[-2, -1, 0, 1, 2].map((d) => rowMatches(page.screenshot, by + d, bx + 5, bx + bw - 5, [255, 0, 0]).matching));
        assert.ok(best > 0.85 * (bw - 9), `the box drawn on the page: ${best} red pixels of ${bw - 9}`);
      }

      const list = JSON.parse(ok(sifkube(['example', 'list', '--name', name, '--json']))) as { name: string; status: string; url?: string }[];
      assert.equal(list.map((e) => [e.name, e.status, e.url]), [['cats', 'ready', cats], ['books', 'ready', books], ['tensorflow', 'ready', tf]]);
      // --gpu asks for one nvidia.com/gpu; this cluster has none to give: the rollout fails, saying so.
      const gpu = sifkube(['example', 'run', 'tensorflow', '--gpu', '--timeout', '15', '--name', name]);
      assert.is(gpu.status, 106, gpu.stdout + gpu.stderr);
      assert.match(gpu.stderr, /example tensorflow did not become ready: deployment\/tensorflow after 15 s/);
      assert.match(k('get', 'deployment', 'tensorflow', '-o', 'jsonpath={.spec.template.spec.containers[0].resources.limits}'), /"nvidia.com\/gpu":"1"/);
      for (const e of ['cats', 'books', 'tensorflow']) ok(sifkube(['example', 'delete', e, '--name', name]));
      assert.equal(JSON.parse(ok(sifkube(['example', 'list', '--name', name, '--json']))).map((e: { status: string }) => e.status), ['not running', 'not running', 'not running']);
      ok(sifkube(['delete', '--name', name, '--kubeconfig', kubeconfig]));
    } finally {
      await deleteCluster(name, kubeconfig).catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
      rmSync(photos, { recursive: true, force: true });
    }
    assert.equal(clusterLeftovers(name), []);
    assert.equal(diffSnapshots(before, hostSnapshot()), []);
  });
}

test.run();
