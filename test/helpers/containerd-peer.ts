import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { PROTO_PATH } from '../../src/cri/proto.js';

const IMAGE = 'docker.io/library/sifkube-stream-peer:latest';

type Call = (req: object) => Promise<Record<string, string>>;

/**
 * containerd 1.6 with its CRI plugin (whose streaming server is kubelet's Go code) as the peer and
 * oracle: a private instance (own root, state, socket), a busybox image built with umoci and
 * imported with ctr, one host-network pod running `sleep`. Everything is named sifkube-ctd-* so
 * the test runner's leak checks see what stop() would fail to remove.
 */
export class ContainerdPeer {
  readonly dir = mkdtempSync('/tmp/sifkube-ctd-');
  private readonly cgroupParent = `/sifkube-ctd-${randomBytes(4).toString('hex')}`;
  private daemon?: ChildProcess;
  private rpc: Record<string, Call> = {};
  private sandboxConfig: object = {};
  sandboxId = '';
  containerId = '';

  async start(): Promise<void> {
    const d = this.dir;
    this.buildImage();
    writeFileSync(
      join(d, 'config.toml'),
      `version = 2\nroot = "${d}/root"\nstate = "${d}/state"\n[grpc]\n  address = "${d}/c.sock"\n` +
        `[plugins."io.containerd.grpc.v1.cri"]\n  stream_server_address = "127.0.0.1"\n  stream_server_port = "0"\n` +
        `  sandbox_image = "${IMAGE}"\n  restrict_oom_score_adj = true\n` +
        `  [plugins."io.containerd.grpc.v1.cri".cni]\n    bin_dir = "/usr/lib/cni"\n    conf_dir = "${d}/cni"\n`,
    );
    mkdirSync(join(d, 'cni'));
    this.daemon = spawn('containerd', ['--config', join(d, 'config.toml')], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !existsSync(join(d, 'c.sock')); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    execFileSync('ctr', ['-a', join(d, 'c.sock'), '-n', 'k8s.io', 'images', 'import', '--base-name', IMAGE.split(':')[0], join(d, 'image.tar')], { stdio: 'ignore' });
    const def = protoLoader.loadSync(PROTO_PATH, { keepCase: false, defaults: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: { RuntimeService: new (addr: string, creds: grpc.ChannelCredentials) => grpc.Client } } };
    const client = new pkg.runtime.v1.RuntimeService(`unix://${d}/c.sock`, grpc.credentials.createInsecure()) as unknown as Record<string, (req: object, cb: (err: Error | null, res: Record<string, string>) => void) => void>;
    for (const m of ['runPodSandbox', 'stopPodSandbox', 'removePodSandbox', 'createContainer', 'startContainer', 'exec', 'portForward', 'attach']) {
      this.rpc[m] = (req) => new Promise((resolve, reject) => client[m].call(client, req, (err, res) => (err ? reject(err) : resolve(res))));
    }
    this.sandboxConfig = {
      metadata: { name: 'peer', uid: 'peer-uid', namespace: 'default', attempt: 0 },
      logDirectory: join(d, 'logs'),
      linux: { cgroupParent: this.cgroupParent, securityContext: { namespaceOptions: { network: 2, pid: 1, ipc: 0 } } },
    };
    this.sandboxId = (await this.rpc.runPodSandbox({ config: this.sandboxConfig })).podSandboxId;
    this.containerId = await this.runContainer('main', ['/bin/sleep', '100000']);
  }

  /** Creates and starts a container of the pod; returns its id. */
  async runContainer(name: string, command: string[], io: { stdin?: boolean; stdinOnce?: boolean; tty?: boolean } = {}): Promise<string> {
    const config = { metadata: { name }, image: { image: IMAGE }, command, logPath: `${name}.log`, ...io };
    const { containerId } = await this.rpc.createContainer({ podSandboxId: this.sandboxId, config, sandboxConfig: this.sandboxConfig });
    await this.rpc.startContainer({ containerId });
    return containerId;
  }

  async attachUrl(containerId: string, o: { tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): Promise<string> {
    return (await this.rpc.attach({ containerId, ...o })).url;
  }

  async execUrl(cmd: string[], o: { tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): Promise<string> {
    return (await this.rpc.exec({ containerId: this.containerId, cmd, ...o })).url;
  }

  async portForwardUrl(port: number[] = []): Promise<string> {
    return (await this.rpc.portForward({ podSandboxId: this.sandboxId, port })).url;
  }

  async stop(): Promise<void> {
    if (this.sandboxId) {
      await this.rpc.stopPodSandbox({ podSandboxId: this.sandboxId }).catch(() => undefined);
      await this.rpc.removePodSandbox({ podSandboxId: this.sandboxId }).catch(() => undefined);
    }
    const daemon = this.daemon;
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((r) => daemon.once('exit', r));
      daemon.kill('SIGTERM');
      await exited;
    }
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
      const mnt = line.split(' ')[4];
      if (mnt?.startsWith(this.dir)) execFileSync('umount', ['-l', mnt]);
    }
    rmSync(this.dir, { recursive: true, force: true });
    for (const h of readdirSync('/sys/fs/cgroup')) {
      const dir = join('/sys/fs/cgroup', h, this.cgroupParent);
      if (existsSync(dir)) rmdirSync(dir);
    }
  }

  /** An OCI image with a static busybox (sh, cat, stty, sleep…), entrypoint sleep, as a tar of its layout. */
  private buildImage(): void {
    const d = this.dir;
    const umoci = (...args: string[]) => execFileSync('umoci', args, { cwd: d, stdio: 'ignore' });
    umoci('init', '--layout', 'layout');
    umoci('new', '--image', 'layout:latest');
    umoci('unpack', '--image', 'layout:latest', 'bundle');
    mkdirSync(join(d, 'bundle/rootfs/bin'), { recursive: true });
    copyFileSync('/bin/busybox', join(d, 'bundle/rootfs/bin/busybox'));
    for (const a of ['sh', 'true', 'sleep', 'cat', 'echo', 'stty', 'tty', 'kill']) symlinkSync('busybox', join(d, 'bundle/rootfs/bin', a));
    umoci('repack', '--image', 'layout:latest', 'bundle');
    umoci('config', '--image', 'layout:latest', '--config.entrypoint', '/bin/sleep', '--config.cmd', '100000');
    execFileSync('tar', ['-C', join(d, 'layout'), '-cf', join(d, 'image.tar'), '.']);
  }
}
