import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSif } from '../../src/sif/index.js';
import { busyboxRootfs } from './registry.js';
import { createLogger, criClient, parseCriConfig, startCriServer, type CriClient, type CriConfig, type RunningCriServer } from '../../src/cri/index.js';

/** A CRI server of the test's own: temp state, image and CNI folders, a run folder under /run/sifkube. */
export interface TestCri {
  config: CriConfig;
  server: RunningCriServer;
  client: CriClient;
  socket: string;
  /** Restarts the server on the same folders (persistence checks). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Stops the server and removes every folder. */
  dispose(): Promise<void>;
}

export function suffix(): string {
  return randomBytes(3).toString('hex');
}

export async function startTestCri(extra: Record<string, unknown> = {}): Promise<TestCri> {
  const base = mkdtempSync(join(tmpdir(), 'sifkube-cri-test-'));
  const runDir = `/run/sifkube/test-cri-${suffix()}`;
  const config = parseCriConfig({
    stateDir: join(base, 'state'),
    runDir,
    imageDir: join(base, 'images'),
    cni: { binDir: '/usr/lib/cni', confDir: join(base, 'net.d') },
    logLevel: process.env.SIFKUBE_TEST_LOG ? 'debug' : 'error',
    ...extra,
  });
  const socket = join(runDir, 'cri.sock');
  const log = createLogger(config.logLevel);
  const t: TestCri = {
    config,
    socket,
    server: await startCriServer(config, socket, log),
    client: criClient(socket),
    async restart() {
      await this.stop();
      this.server = await startCriServer(config, socket, log);
      this.client = criClient(socket);
    },
    async stop() {
      this.client.close();
      await this.server.close();
    },
    async dispose() {
      await this.stop().catch(() => undefined);
      rmSync(base, { recursive: true, force: true });
      rmSync(runDir, { recursive: true, force: true });
    },
  };
  return t;
}

/** A bridge + host-local + portmap conflist in the test's CNI folder; returns the bridge name and subnet. */
export function writeBridgeConflist(cri: TestCri, octet = 100 + Math.floor(Math.random() * 100)): { bridge: string; subnet: string; gateway: string } {
  const bridge = `skt${suffix()}`;
  const subnet = `10.${octet}.${Math.floor(Math.random() * 250)}.0/24`;
  mkdirSync(cri.config.cni.confDir, { recursive: true });
  const conf = {
    cniVersion: '1.0.0',
    name: `sktest-${bridge}`,
    plugins: [
      { type: 'bridge', bridge, isGateway: true, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir: join(cri.config.stateDir, 'ipam') } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  writeFileSync(join(cri.config.cni.confDir, '10-test.conflist'), JSON.stringify(conf));
  return { bridge, subnet, gateway: subnet.replace(/0\/24$/, '1') };
}

/** Stops and removes every pod the server knows (with their containers), as a test teardown does. */
export async function removeAllPods(cri: TestCri): Promise<void> {
  for (const s of (await cri.client.runtime.ListPodSandbox({})).items) {
    await cri.client.runtime.StopPodSandbox({ podSandboxId: s.id });
    await cri.client.runtime.RemovePodSandbox({ podSandboxId: s.id });
  }
}

export function deleteLink(name: string): void {
  try {
    execFileSync('ip', ['link', 'del', name], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

export function podConfig(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}-${suffix()}`, attempt: 0 },
    hostname: name,
    logDirectory: '',
    labels: { app: name },
    annotations: { 'sifkube.test/pod': name },
    ...extra,
  };
}

/** The gRPC status code name of a rejected call. */
export async function codeOf(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code: number; details: string };
    return { code: e.code, details: e.details };
  }
  throw new Error('the call succeeded but was expected to fail');
}

/** Builds a busybox-static SIF in WORK (PREPARE may add to its root) and pulls it: the image ref. */
export async function pullBusyboxImage(cri: TestCri, work: string, prepare: (rootfs: string) => void = () => {}): Promise<string> {
  const rootfs = join(work, 'rootfs');
  busyboxRootfs(rootfs);
  prepare(rootfs);
  const sif = join(work, 'busybox.sif');
  buildSif({ rootfs, out: sif, deterministic: true, imageConfig: { cmd: ['sleep', '1000'], env: ['PATH=/bin'] } });
  return (await cri.client.image.PullImage({ image: { image: `local.file${sif}` } })).imageRef;
}

/** Removes a test pod's cgroup parent (the kubelet's to remove in a cluster) from every hierarchy. */
export function removeCgroupParent(parent: string): void {
  const roots = readdirSync('/sys/fs/cgroup').includes('cgroup.controllers') ? ['/sys/fs/cgroup'] : readdirSync('/sys/fs/cgroup').map((h) => `/sys/fs/cgroup/${h}`);
  for (const root of roots) {
    try {
      rmdirSync(`${root}${parent}`);
    } catch {
      // not in this hierarchy
    }
  }
}
