// sifkube's CRI server against containerd's CRI plugin on the same machine, same registry, same
// CNI plugins: pod+container start, stop+remove, 50 pods at once, memory with 50 pods, a ~100 MB
// pull; and, through crictl (a Go client, as the kubelet is), a cold pull, a warm pull of the same
// image, a pull of a new image sharing all but one layer with a stored one, and `crictl run`.
// Run as root after `npm run build`: node dist/bench/cri/runtime-vs-containerd.js
// (SIFKUBE_CRICTL names crictl; without it the crictl rows are left out).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { criClient, type CriClient } from '../../src/cri/index.js';
import { startContainerd } from '../../test/helpers/containerd.js';
import { deleteLink } from '../../test/helpers/cri.js';
import { busyboxRootfs, layerFrom, push, startRegistry, tagImage } from '../../test/helpers/registry.js';

const N = Number(process.env.BENCH_N ?? 10);
const CONCURRENT = Number(process.env.BENCH_PODS ?? 50);
const bin = new URL('../../../bin/sifkube.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sk-bench-cri-'));

function conflist(dir: string, bridge: string, subnet: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, '10-bench.conflist'),
    JSON.stringify({ cniVersion: '1.0.0', name: `bench-${bridge}`, plugins: [{ type: 'bridge', bridge, isGateway: true, ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir: join(work, `ipam-${bridge}`) } }, { type: 'portmap', capabilities: { portMappings: true } }] }),
  );
}

/** Resident memory (KiB) of the processes whose command line matches. */
function rssOf(match: (cmd: string, pid: number) => boolean): number {
  let kb = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (!match(cmd, Number(d))) continue;
      kb += Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kb;
}

let podSeq = 0;
async function startPod(c: CriClient, image: string, logDir: string): Promise<{ pod: string; ctr: string }> {
  podSeq += 1;
  const config = { metadata: { name: `b${podSeq}`, namespace: 'bench', uid: `u${podSeq}-${randomBytes(3).toString('hex')}`, attempt: 0 }, hostname: `b${podSeq}`, logDirectory: logDir, linux: { securityContext: { namespaceOptions: { pid: 'CONTAINER' } } } };
  const { podSandboxId: pod } = await c.runtime.RunPodSandbox({ config });
  const { containerId: ctr } = await c.runtime.CreateContainer({
    podSandboxId: pod,
    config: { metadata: { name: 'main', attempt: 0 }, image: { image }, command: ['sleep', '100000'], logPath: `main-${podSeq}.log`, linux: { securityContext: { seccomp: { profileType: 'Unconfined' }, namespaceOptions: { pid: 'CONTAINER' } } } },
    sandboxConfig: config,
  });
  await c.runtime.StartContainer({ containerId: ctr });
  return { pod, ctr };
}

async function stopPod(c: CriClient, p: { pod: string; ctr: string }): Promise<void> {
  await c.runtime.StopContainer({ containerId: p.ctr, timeout: 0 });
  await c.runtime.RemoveContainer({ containerId: p.ctr });
  await c.runtime.StopPodSandbox({ podSandboxId: p.pod });
  await c.runtime.RemovePodSandbox({ podSandboxId: p.pod });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function measure(name: string, c: CriClient, image: string, bigImage: string, rss: () => number) {
  const logDir = join(work, `logs-${name}`);
  const start: number[] = [];
  const stop: number[] = [];
  for (let i = 0; i < N; i++) {
    let t = performance.now();
    const p = await startPod(c, image, logDir);
    start.push(performance.now() - t);
    t = performance.now();
    await stopPod(c, p);
    stop.push(performance.now() - t);
  }
  const idle = rss();
  let t = performance.now();
  const pods = await Promise.all(Array.from({ length: CONCURRENT }, () => startPod(c, image, logDir)));
  const concurrent = performance.now() - t;
  await new Promise((r) => setTimeout(r, 500));
  const loaded = rss();
  t = performance.now();
  await Promise.all(pods.map((p) => stopPod(c, p)));
  const teardown = performance.now() - t;
  t = performance.now();
  await c.image.PullImage({ image: { image: bigImage } });
  const pull = performance.now() - t;
  return { start: median(start), stop: median(stop), concurrent, teardown, idleRss: idle, loadedRss: loaded, pull };
}

const crictl = process.env.SIFKUBE_CRICTL;

/** Milliseconds one crictl command takes against `socket` (process start included, as for any CLI user). */
function crictlMs(socket: string, args: string[]): number {
  const t = performance.now();
  execFileSync(crictl!, ['--runtime-endpoint', `unix://${socket}`, '--image-endpoint', `unix://${socket}`, '--timeout', '120s', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return performance.now() - t;
}

/**
 * Cold pull (nothing of it stored), warm pulls (the same image again), pulls of new images sharing all
 * layers but the top one with the cold one, `crictl run` of a pod with one container.
 */
function measureCrictl(name: string, socket: string, cold: string, shared: string[], runImage: string) {
  const coldPull = crictlMs(socket, ['pull', cold]);
  const warmPulls = Array.from({ length: N }, () => crictlMs(socket, ['pull', cold]));
  const sharedPulls = shared.map((s) => crictlMs(socket, ['pull', s]));
  const logDir = join(work, `crictl-logs-${name}`);
  const runs: number[] = [];
  for (let i = 0; i < N; i++) {
    const pod = join(work, `pod-${name}-${i}.json`);
    const ctr = join(work, `ctr-${name}-${i}.json`);
    writeFileSync(pod, JSON.stringify({ metadata: { name: `c${name}${i}`, namespace: 'bench', uid: `cu${name}${i}`, attempt: 0 }, log_directory: logDir, linux: { security_context: { namespace_options: { pid: 1 } } } }));
    writeFileSync(ctr, JSON.stringify({ metadata: { name: 'main' }, image: { image: runImage }, command: ['sleep', '100000'], log_path: `main-${i}.log` }));
    runs.push(crictlMs(socket, ['run', '--no-pull', ctr, pod]));
    const id = execFileSync(crictl!, ['--runtime-endpoint', `unix://${socket}`, 'pods', '-q', '--name', `c${name}${i}`], { encoding: 'utf8' }).trim();
    crictlMs(socket, ['rmp', '-f', id]);
  }
  return { coldPull, warmPull: median(warmPulls), sharedPull: median(sharedPulls), run: median(runs) };
}

async function main(): Promise<void> {
  const reg = await startRegistry();
  const ourBridge = `skbo${randomBytes(2).toString('hex')}`;
  const theirBridge = `skbc${randomBytes(2).toString('hex')}`;
  const runDir = `/run/sifkube/bench-cri-${randomBytes(3).toString('hex')}`;
  let server: ReturnType<typeof spawn> | undefined;
  let ctd: Awaited<ReturnType<typeof startContainerd>> | undefined;
  try {
    const layout = join(work, 'layout');
    busyboxRootfs(join(work, 'rootfs'));
    tagImage(layout, 'v1', [{ architecture: 'amd64', layers: [layerFrom(layout, join(work, 'rootfs'))], config: { Entrypoint: ['sleep', '100000'], Env: ['PATH=/bin'] } }]);
    mkdirSync(join(work, 'big'));
    // ~100 MB that does not compress: the pull measures transfer, unpacking and (for sifkube) SIF conversion.
    writeFileSync(join(work, 'big', 'blob'), randomBytes(100 * 1024 * 1024));
    tagImage(layout, 'big', [{ architecture: 'amd64', layers: [layerFrom(layout, join(work, 'rootfs')), layerFrom(layout, join(work, 'big'))], config: { Cmd: ['sh'] } }]);
    push(layout, 'v1', `${reg.host}/bench/busybox:v1`);
    push(layout, 'big', `${reg.host}/bench/big:v1`);
    // The crictl pulls: a cold image of 4 layers no runtime has (busybox with a file of its own, two
    // of 8 MiB that do not compress, a 1 MiB top), and images sharing all but that top layer with it.
    const folder = (name: string, bytes: number) => {
      mkdirSync(join(work, name, 'opt'), { recursive: true });
      writeFileSync(join(work, name, 'opt', name), randomBytes(bytes));
      return layerFrom(layout, join(work, name));
    };
    busyboxRootfs(join(work, 'cold-base'));
    writeFileSync(join(work, 'cold-base', 'etc', 'cold'), randomBytes(16).toString('hex'));
    const lower = [layerFrom(layout, join(work, 'cold-base')), folder('mid1', 8 << 20), folder('mid2', 8 << 20)];
    const coldCfg = { Entrypoint: ['sleep', '100000'], Env: ['PATH=/bin'] };
    const sharedRefs = Array.from({ length: N + 1 }, (_, i) => (i === 0 ? 'cold' : `shared${i}`));
    for (const tag of sharedRefs) {
      tagImage(layout, tag, [{ architecture: 'amd64', layers: [...lower, folder(`top-${tag}`, 1 << 20)], config: coldCfg }]);
      push(layout, tag, `${reg.host}/bench/${tag}:v1`);
    }
    const image = `${reg.host}/bench/busybox:v1`;
    const big = `${reg.host}/bench/big:v1`;

    conflist(join(work, 'net-ours'), ourBridge, '10.231.0.0/16');
    conflist(join(work, 'net-ctd'), theirBridge, '10.232.0.0/16');
    writeFileSync(join(work, 'cri.yaml'), `stateDir: ${work}/state\nrunDir: ${runDir}\nimageDir: ${work}/images\ncni:\n  confDir: ${work}/net-ours\nlogLevel: warn\n`);
    const socket = join(runDir, 'cri.sock');
    server = spawn(process.execPath, [bin, 'cri', 'serve', '--socket', socket, '--config', join(work, 'cri.yaml')], { stdio: 'inherit' });
    for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
    const ours = criClient(socket);
    await ours.image.PullImage({ image: { image } });
    ctd = await startContainerd({ registry: reg.host, pauseImage: image, cniConfDir: join(work, 'net-ctd') });
    await ctd.client.image.PullImage({ image: { image } });
    const serverPid = server.pid!;
    const ctdPid = ctd.pid;
    const ctdSocket = ctd.socket;
    const a = await measure('sifkube', ours, image, big, () => rssOf((cmd, pid) => pid === serverPid || (cmd.includes('sifkube-helper') && (cmd.includes(work) || cmd.includes(' container')))));
    const b = await measure('containerd', ctd.client, image, big, () => rssOf((cmd, pid) => pid === ctdPid || (cmd.includes('containerd-shim') && cmd.includes(ctdSocket))));
    ours.close();
    const shared = sharedRefs.slice(1).map((t) => `${reg.host}/bench/${t}:v1`);
    const ac = crictl ? measureCrictl('sifkube', socket, `${reg.host}/bench/cold:v1`, shared, image) : undefined;
    const bc = crictl ? measureCrictl('containerd', ctdSocket, `${reg.host}/bench/cold:v1`, shared, image) : undefined;
    const rows: [string, number, number, string][] = [
      ['pod + container start, median of ' + N + ' (ms)', a.start, b.start, 'ms'],
      ['container + pod stop and remove, median (ms)', a.stop, b.stop, 'ms'],
      [`${CONCURRENT} pods started at once, total (ms)`, a.concurrent, b.concurrent, 'ms'],
      [`${CONCURRENT} pods stopped and removed at once, total (ms)`, a.teardown, b.teardown, 'ms'],
      ['runtime RSS, no pods (MiB)', a.idleRss / 1024, b.idleRss / 1024, 'MiB'],
      [`runtime RSS with ${CONCURRENT} pods, server + per-pod helpers (MiB)`, a.loadedRss / 1024, b.loadedRss / 1024, 'MiB'],
      ['pull of a ~100 MB image from the loopback registry (ms)', a.pull, b.pull, 'ms'],
    ];
    if (ac && bc) {
      rows.push(
        ['crictl pull, cold (~19 MB image, 4 layers, none stored) (ms)', ac.coldPull, bc.coldPull, 'ms'],
        [`crictl pull, warm (the same image again), median of ${N} (ms)`, ac.warmPull, bc.warmPull, 'ms'],
        [`crictl pull, a new image sharing 3 of its 4 layers with a stored one, median of ${N} (ms)`, ac.sharedPull, bc.sharedPull, 'ms'],
        [`crictl run (pod + container start), median of ${N} (ms)`, ac.run, bc.run, 'ms'],
      );
    }
    console.log(`| measure | sifkube | containerd 1.6 | sifkube / containerd |\n|---|---:|---:|---:|`);
    for (const [label, x, y] of rows) console.log(`| ${label} | ${x.toFixed(1)} | ${y.toFixed(1)} | ${(x / y).toFixed(2)} |`);
  } finally {
    await ctd?.stop();
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    await reg.stop();
    deleteLink(ourBridge);
    deleteLink(theirBridge);
    rmSync(runDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
