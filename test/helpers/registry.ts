import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real Docker registry (Debian's docker-registry) on loopback, storage in a temp folder. */
export interface TestRegistry {
  host: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** htpasswd line with a bcrypt hash ($2a$, which the registry's Go bcrypt reads). */
function htpasswd(user: string, password: string): string {
  const hash = execFileSync('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))', password], { encoding: 'utf8' }).trim();
  return `${user}:${hash.replace(/^\$2b\$/, '$2a$')}\n`;
}

export interface TokenAuth {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundle: string;
}

/** `address`: where it listens (default 127.0.0.1 on a free port); a cluster's nodes reach the host on its bridge address. */
export async function startRegistry(opts: { user?: string; password?: string; tokenAuth?: TokenAuth; address?: string } = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'sk-registry-'));
  const host = opts.address ?? `127.0.0.1:${await freePort()}`;
  let auth = '';
  if (opts.user) {
    writeFileSync(join(dir, 'htpasswd'), htpasswd(opts.user, opts.password ?? ''));
    auth = `auth:\n  htpasswd:\n    realm: sifkube-test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  if (opts.tokenAuth) {
    const t = opts.tokenAuth;
    auth = `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.rootCertBundle}\n`;
  }
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: ${host}\n${auth}`);
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(`http://${host}/v2/`);
      if (res.status === 200 || res.status === 401) return { host, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  await stop();
  throw new Error('docker-registry did not start');
}

export interface LayerBlob {
  digest: string;
  diffId: string;
  size: number;
  mediaType: string;
}

function sha(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** Writes a blob into an OCI layout and returns its digest and size. */
function putBlob(layout: string, data: Buffer): { digest: string; size: number } {
  const digest = sha(data);
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(layout, 'blobs', 'sha256', digest.slice(7)), data);
  return { digest, size: data.length };
}

/** A layer from a folder: a reproducible tar (sorted, numeric owners kept), gzip- or zstd-compressed. */
export function layerFrom(layout: string, dir: string, compression: 'gzip' | 'zstd' = 'gzip'): LayerBlob {
  const tar = execFileSync('tar', ['--sort=name', '--numeric-owner', '--mtime=@1700000000', '-C', dir, '-cf', '-', '.'], { maxBuffer: 1 << 30 });
  const packed = execFileSync(compression === 'gzip' ? 'gzip' : 'zstd', compression === 'gzip' ? ['-n', '-c'] : ['-q', '-c'], { input: tar, maxBuffer: 1 << 30 });
  const { digest, size } = putBlob(layout, packed);
  return { digest, size, diffId: sha(tar), mediaType: `application/vnd.oci.image.layer.v1.tar+${compression}` };
}

export interface PlatformImage {
  architecture: string;
  layers: LayerBlob[];
  config: Record<string, unknown>;
}

function manifestFor(layout: string, img: PlatformImage): { digest: string; size: number } {
  const config = Buffer.from(JSON.stringify({ architecture: img.architecture, os: 'linux', config: img.config, rootfs: { type: 'layers', diff_ids: img.layers.map((l) => l.diffId) } }));
  const c = putBlob(layout, config);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: c.digest, size: c.size },
    layers: img.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  return putBlob(layout, Buffer.from(JSON.stringify(manifest)));
}

/** Adds a tag to an OCI layout: one platform gives a manifest, several an image index. */
export function tagImage(layout: string, tag: string, platforms: PlatformImage[]): void {
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  let target: { mediaType: string; digest: string; size: number };
  if (platforms.length === 1) {
    target = { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifestFor(layout, platforms[0]) };
  } else {
    const manifests = platforms.map((p) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifestFor(layout, p), platform: { os: 'linux', architecture: p.architecture } }));
    target = { mediaType: 'application/vnd.oci.image.index.v1+json', ...putBlob(layout, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }))) };
  }
  const indexFile = join(layout, 'index.json');
  let index: { schemaVersion: number; manifests: Record<string, unknown>[] } = { schemaVersion: 2, manifests: [] };
  try {
    index = JSON.parse(readFileSync(indexFile, 'utf8'));
  } catch {
    // a new layout
  }
  index.manifests = index.manifests.filter((m) => (m.annotations as Record<string, string>)['org.opencontainers.image.ref.name'] !== tag);
  index.manifests.push({ ...target, annotations: { 'org.opencontainers.image.ref.name': tag } });
  writeFileSync(indexFile, JSON.stringify(index));
}

/** Pushes a tag of the layout to the registry with skopeo (`docker: true` converts to Docker schema 2). */
export function push(layout: string, tag: string, dest: string, opts: { creds?: string; docker?: boolean } = {}): void {
  const args = ['copy', '-q', '--all', '--dest-tls-verify=false'];
  if (opts.creds) args.push('--dest-creds', opts.creds);
  if (opts.docker) args.push('--format', 'v2s2');
  execFileSync('skopeo', [...args, `oci:${layout}:${tag}`, `docker://${dest}`], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** `push` without blocking the event loop: needed when a service of this process (a token server) must answer skopeo. */
export async function pushAsync(layout: string, tag: string, dest: string, creds: string): Promise<void> {
  await promisify(execFile)('skopeo', ['copy', '-q', '--all', '--dest-tls-verify=false', '--dest-creds', creds, `oci:${layout}:${tag}`, `docker://${dest}`]);
}

/** A small root filesystem: static busybox, a shell, a passwd with a non-root user. */
export function busyboxRootfs(dir: string): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'etc'), { recursive: true });
  execFileSync('cp', ['/bin/busybox', join(dir, 'bin', 'busybox')]);
  for (const app of ['sh', 'ls', 'cat', 'echo', 'id', 'sleep', 'true']) execFileSync('ln', ['-s', 'busybox', join(dir, 'bin', app)]);
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n');
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\napp:x:1000:\n');
}

export function fileSize(path: string): number {
  return statSync(path).size;
}
