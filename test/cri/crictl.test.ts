import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSif } from '../../src/sif/index.js';
import { deleteLink, podConfig, removeAllPods, removeCgroupParent, startTestCri, writeBridgeConflist, type TestCri } from '../helpers/cri.js';
import { crictlPath, missing } from '../helpers/kube-sets.js';
import { busyboxRootfs, layerFrom, push, startRegistry, tagImage, type TestRegistry } from '../helpers/registry.js';
import { run as runProgram } from '../helpers/run.js';

// crictl (the Go CRI client kubelet's authors ship) against `sifkube cri serve`'s server, over the
// socket path as its endpoint: the `:authority` a Go client sends then is the path itself.
const crictl = crictlPath();
const title = 'crictl: version, info, pull, images, inspecti, runp, pods, inspectp, create, start, ps, exec (sync and streaming), logs, stats, stop, rm, stopp, rmp, rmi';

if (!crictl) {
  const why = missing('SIFKUBE_CRICTL');
  console.log(`skipped: ${title}: ${why}`);
  test.skip(title, () => undefined);
} else {
  let cri: TestCri;
  let reg: TestRegistry;
  let net: { bridge: string };
  const work = mkdtempSync(join(tmpdir(), 'sk-crictl-'));

  // Never spawnSync: the server under test answers from this process's event loop.
  const run = async (...args: string[]) => {
    const r = await runProgram(crictl, ['--config', join(work, 'crictl.yaml'), '--runtime-endpoint', `unix://${cri.socket}`, '--image-endpoint', `unix://${cri.socket}`, '--timeout', '20s', ...args], {
      timeoutMs: 60_000,
    });
    return { status: r.status, out: r.stdout, err: r.stderr, all: `crictl ${args.join(' ')}: exit ${r.status}\n${r.stdout}${r.stderr}` };
  };
  const ok = async (...args: string[]) => {
    const r = await run(...args);
    assert.is(r.status, 0, r.all);
    return r.out.trim();
  };

  test.before(async () => {
    writeFileSync(join(work, 'crictl.yaml'), '');
    [cri, reg] = await Promise.all([startTestCri(), startRegistry()]);
    net = writeBridgeConflist(cri);
    const layout = join(work, 'layout');
    const rootfs = join(work, 'rootfs');
    busyboxRootfs(rootfs);
    tagImage(layout, 'v1', [{ architecture: 'amd64', layers: [layerFrom(layout, rootfs)], config: { Cmd: ['sh'], Env: ['PATH=/bin'] } }]);
    push(layout, 'v1', `${reg.host}/test/busybox:v1`);
  });

  test.after(async () => {
    try {
      await removeAllPods(cri);
    } finally {
      await cri.dispose();
      await reg.stop();
      deleteLink(net.bridge);
      removeCgroupParent('/sifkube-cri');
      rmSync(work, { recursive: true, force: true });
    }
  });

  test(title, async () => {
    const image = `${reg.host}/test/busybox:v1`;
    assert.match(await ok('version'), /RuntimeName:\s+sifkube/);
    const info = JSON.parse(await ok('info')) as { status: { conditions: { type: string; status: boolean }[] } };
    assert.ok(info.status.conditions.find((c) => c.type === 'RuntimeReady')?.status, JSON.stringify(info));
    assert.match(await ok('pull', image), /Image is up to date for /);
    assert.match(await ok('images'), new RegExp(`${reg.host}/test/busybox\\s+v1`));
    const inspecti = JSON.parse(await ok('inspecti', image)) as { status: { repoTags: string[] } };
    assert.equal(inspecti.status.repoTags, [image]);

    const podFile = join(work, 'pod.json');
    const ctrFile = join(work, 'ctr.json');
    writeFileSync(podFile, JSON.stringify({ ...podConfig('crictlpod'), log_directory: join(work, 'logs') }));
    writeFileSync(
      ctrFile,
      JSON.stringify({ metadata: { name: 'main' }, image: { image }, command: ['sh', '-c', 'echo started; echo to-stderr >&2; exec sleep 1000'], log_path: 'main.log' }),
    );
    const pod = await ok('runp', podFile);
    assert.match(await ok('pods', '-q'), new RegExp(pod));
    assert.is((JSON.parse(await ok('inspectp', pod)) as { status: { state: string } }).status.state, 'SANDBOX_READY');
    const ctr = await ok('create', pod, ctrFile, podFile);
    await ok('start', ctr);
    assert.match(await ok('ps', '-q'), new RegExp(ctr));

    assert.is(await ok('exec', '-s', ctr, 'echo', 'sync exec'), 'sync exec');
    const failed = await run('exec', '-s', ctr, 'sh', '-c', 'exit 3');
    // crictl 1.26 reports a sync exec's status in its message and exits 1.
    assert.is(failed.status, 1, failed.all);
    assert.match(failed.err, /exited with 3/);
    // Without --sync crictl streams through the CRI's streaming server (SPDY), as kubectl exec does.
    assert.is(await ok('exec', ctr, 'sh', '-c', 'echo streamed; echo err >&2'), 'streamed');
    const streamedExit = await run('exec', ctr, 'sh', '-c', 'exit 4');
    assert.is(streamedExit.status, 1, streamedExit.all);
    assert.match(streamedExit.err, /command terminated with exit code 4/);

    let logs = '';
    for (let i = 0; i < 50 && !logs.includes('to-stderr'); i++) {
      const r = await run('logs', ctr);
      logs = r.out + r.err;
    }
    assert.match(logs, /started/);
    assert.match(logs, /to-stderr/);

    const stats = JSON.parse(await ok('stats', '-o', 'json', ctr)) as { stats: { attributes: { id: string }; memory: { workingSetBytes: { value: string } } }[] };
    assert.is(stats.stats[0].attributes.id, ctr);
    assert.ok(Number(stats.stats[0].memory.workingSetBytes.value) > 0, JSON.stringify(stats));

    await ok('stop', '--timeout', '5', ctr);
    assert.match(await ok('ps', '-a', '-o', 'json'), /CONTAINER_EXITED/);
    await ok('rm', ctr);
    await ok('stopp', pod);
    await ok('rmp', pod);
    assert.is(await ok('pods', '-q'), '');
    await ok('rmi', image);
    assert.not.match(await ok('images', '-q'), /./);
  });

  test('crictl: inspect, exec -it through a terminal, logs -f, a local.file/ SIF (as the kubelet names it)', async () => {
    const rootfs = join(work, 'sif-rootfs');
    busyboxRootfs(rootfs);
    const sif = join(work, 'bb.sif');
    buildSif({ rootfs, out: sif, deterministic: true, imageConfig: { cmd: ['sh'], env: ['PATH=/bin'] } });
    const image = `local.file${sif}`;
    await ok('pull', `${image}:latest`);
    assert.match(await ok('images'), new RegExp(`local.file${sif}\\s+latest`));
    const podFile = join(work, 'pod2.json');
    const ctrFile = join(work, 'ctr2.json');
    writeFileSync(podFile, JSON.stringify({ ...podConfig('crictlpod2'), log_directory: join(work, 'logs2') }));
    writeFileSync(ctrFile, JSON.stringify({ metadata: { name: 'main' }, image: { image: `${image}:latest` }, command: ['sh', '-c', 'echo first; exec sleep 1000'], log_path: 'main.log' }));
    const pod = await ok('runp', podFile);
    const ctr = await ok('create', pod, ctrFile, podFile);
    await ok('start', ctr);
    const inspect = JSON.parse(await ok('inspect', ctr)) as { status: { state: string; image: { image: string } } };
    assert.is(inspect.status.state, 'CONTAINER_RUNNING');

    // exec -it needs a terminal on crictl's side: script(1) gives it one and types the input.
    const cmd = [crictl, '--config', join(work, 'crictl.yaml'), '--runtime-endpoint', `unix://${cri.socket}`, 'exec', '-it', ctr, 'sh', '-c', "'tty; read x; echo got $x'"].join(' ');
    const tty = await runProgram('script', ['-qec', cmd, '/dev/null'], { input: 'typed\n', timeoutMs: 30_000 });
    assert.is(tty.status, 0, tty.stdout + tty.stderr);
    assert.match(tty.stdout, /\/dev\/pts\/\d+/);
    assert.match(tty.stdout, /got typed/);

    // logs -f follows: a line the container's init writes later (through its stdout FIFO) shows up.
    const follow = spawn(crictl, ['--config', join(work, 'crictl.yaml'), '--runtime-endpoint', `unix://${cri.socket}`, 'logs', '-f', ctr]);
    let followed = '';
    follow.stdout.on('data', (d: Buffer) => (followed += d.toString()));
    try {
      for (let i = 0; i < 100 && !followed.includes('first'); i++) await new Promise((r) => setTimeout(r, 50));
      await ok('exec', '-s', ctr, 'sh', '-c', 'echo later > /proc/1/fd/1');
      for (let i = 0; i < 100 && !followed.includes('later'); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(followed, /first\nlater\n/);
    } finally {
      follow.kill('SIGTERM');
    }
    await ok('stopp', pod);
    await ok('rmp', pod);
    await ok('rmi', image);
  });

  test('crictl: a bad request gets a gRPC error and the server keeps serving', async () => {
    const r = await run('inspect', 'no-such-container');
    assert.is.not(r.status, 0);
    assert.match(r.err, /NotFound|not found/i);
    assert.match(await ok('version'), /RuntimeName:\s+sifkube/);
  });
}

test.run();
