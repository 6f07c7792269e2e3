import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What runs inside the test pod: an HTTP server on 8080 and a TCP echo server on 9090, loopback only. */
const SERVER = `
const http = require('node:http'), net = require('node:net');
http.createServer((req, res) => res.end('hello from the pod ' + req.url)).listen(8080, '127.0.0.1', () =>
  net.createServer((s) => s.pipe(s)).listen(9090, '127.0.0.1', () => console.log('ready')));
`;

/**
 * A stand-in pod network: a fresh network namespace (sk-pf-RANDOM, loopback up) with the servers
 * above inside, started through `ip netns exec`. Unreachable from the host's loopback.
 */
export class NetnsPod {
  readonly name = `sk-pf-${randomBytes(4).toString('hex')}`;
  readonly path = `/run/netns/${this.name}`;
  private readonly dir = mkdtempSync(join(tmpdir(), 'sifkube-pod-'));
  private server?: ChildProcess;

  async start(): Promise<void> {
    const add = spawnSync('ip', ['netns', 'add', this.name], { encoding: 'utf8' });
    if (add.status !== 0) throw new Error(`ip netns add ${this.name}: ${add.stderr}`);
    spawnSync('ip', ['-n', this.name, 'link', 'set', 'lo', 'up']);
    const script = join(this.dir, 'pod-server.cjs');
    writeFileSync(script, SERVER);
    const server = spawn('ip', ['netns', 'exec', this.name, process.execPath, script], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.stdout!.once('data', () => resolve());
      server.once('exit', (code) => reject(new Error(`pod server exited with ${code}`)));
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGKILL');
      await exited;
    }
    spawnSync('ip', ['netns', 'del', this.name]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
