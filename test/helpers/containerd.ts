import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { criClient, type CriClient } from '../../src/cri/index.js';

/** Debian's containerd with its CRI plugin, as a peer: own root, state, socket and config, stopped by PID. */
export interface TestContainerd {
  client: CriClient;
  socket: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startContainerd(opts: { registry: string; pauseImage: string; cniConfDir: string }): Promise<TestContainerd> {
  const dir = mkdtempSync(join(tmpdir(), 'sk-ctd-'));
  const state = `/run/sk-ctd-${dir.slice(-6)}`;
  const socket = join(dir, 'containerd.sock');
  mkdirSync(opts.cniConfDir, { recursive: true });
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  writeFileSync(
    join(dir, 'config.toml'),
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${state}"`,
      '[grpc]',
      `  address = "${socket}"`,
      '[ttrpc]',
      `  address = "${socket}.ttrpc"`,
      `[${cri}]`,
      `  sandbox_image = "${opts.pauseImage}"`,
      '  stream_server_port = "0"',
      // root here lacks CAP_SYS_RESOURCE: a negative oom_score_adj for the sandbox would fail
      '  restrict_oom_score_adj = true',
      `[${cri}.cni]`,
      '  bin_dir = "/usr/lib/cni"',
      `  conf_dir = "${opts.cniConfDir}"`,
      `[${cri}.containerd]`,
      '  snapshotter = "overlayfs"',
      `[${cri}.registry.mirrors."${opts.registry}"]`,
      `  endpoint = ["http://${opts.registry}"]`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  };
  for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  const client = criClient(socket);
  for (let i = 0; i < 100; i++) {
    try {
      await client.runtime.Version({});
      return { client, socket, pid: child.pid!, stop: async () => (client.close(), stop()) };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  client.close();
  await stop();
  throw new Error('containerd did not answer on its CRI socket');
}
