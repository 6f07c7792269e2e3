import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SifkubeError } from '../errors.js';
import { mountEntry, mountSif, readImageConfig, unmountSif } from '../sif/index.js';
import { withGpus, type GpuRequest } from './gpu/index.js';
import type { Spec } from './spec/types.js';
import { OCI_VERSION } from './version.js';

/** `oci mount` / `oci umount` failed; the message names the bundle or image and the fix. */
export class BundleMountError extends SifkubeError {
  constructor(what: string, reason: string) {
    super(`${what}: ${reason}`, 19);
  }
}

/** The bundle's private folder (a tmpfs): the image mount, the overlay's upper and work folders. */
const PRIVATE = '.sifkube-oci';

function sh(args: string[], what: string): void {
  try {
    execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const msg = ((err as { stderr?: Buffer }).stderr?.toString() ?? String(err)).trim().split('\n').slice(-1)[0];
    throw new BundleMountError(what, `${args.join(' ')} failed: ${msg}`);
  }
}

/** `export NAME=value` lines of a Singularity environment script, with shell quoting undone. */
function envFromScript(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*export\s+([A-Za-z_]\w*)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2].trim();
    if (v.startsWith("'")) v = v.slice(1, -1).replace(/'\\''/g, "'");
    else if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    out.push(`${m[1]}=${v}`);
  }
  return out;
}

/** uid and gid for an image's "user" (numbers, or names looked up in the image's /etc files). */
function userOf(user: string | undefined, image: string): { uid: number; gid: number } {
  if (!user) return { uid: 0, gid: 0 };
  const [u, g] = user.split(':');
  const lookup = (file: string, name: string, field: number): number | undefined => {
    if (/^\d+$/.test(name)) return Number(name);
    const path = join(image, 'etc', file);
    const line = existsSync(path) ? readFileSync(path, 'utf8').split('\n').find((l) => l.split(':')[0] === name) : undefined;
    return line ? Number(line.split(':')[field]) : undefined;
  };
  const uid = lookup('passwd', u, 2);
  if (uid === undefined) throw new BundleMountError(image, `the image's user ${u} is not in its /etc/passwd: use a numeric user`);
  const gid = g !== undefined ? lookup('group', g, 2) : /^\d+$/.test(u) ? 0 : lookup('passwd', u, 3);
  if (gid === undefined) throw new BundleMountError(image, `the image's group ${g} is not in its /etc/group: use a numeric group`);
  return { uid, gid };
}

/** config.json for the image: its runscript (or entrypoint and cmd), environment, labels and user. */
export function bundleSpec(file: string, image: string): Spec {
  const config = readImageConfig(file);
  const envDir = join(image, '.singularity.d', 'env');
  const env = existsSync(envDir) ? readdirSync(envDir).sort().filter((f) => f.endsWith('.sh')).flatMap((f) => envFromScript(readFileSync(join(envDir, f), 'utf8'))) : [];
  const labelsFile = join(image, '.singularity.d', 'labels.json');
  const labels = existsSync(labelsFile) ? (JSON.parse(readFileSync(labelsFile, 'utf8')) as Record<string, string>) : {};
  const args = [...(config?.entrypoint ?? []), ...(config?.cmd ?? [])];
  if (args.length === 0) args.push(existsSync(join(image, '.singularity.d', 'runscript')) ? '/.singularity.d/runscript' : '/bin/sh');
  const allEnv = [...(config?.env ?? []), ...env];
  if (!allEnv.some((e) => e.startsWith('PATH='))) allEnv.unshift('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: false,
      user: userOf(config?.user, image),
      args,
      env: allEnv,
      cwd: config?.workingDir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs' },
    hostname: 'sifkube',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    annotations: labels,
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/**
 * `oci mount`: makes BUNDLE an OCI bundle of the SIF, as `singularity oci mount` does: the squashfs
 * partition mounted read-only (straight from the file) under an overlay whose writable upper layer is
 * on a tmpfs, and a config.json from the image (with `gpus`, the GPUs added as --nv adds them).
 * On failure everything made is undone.
 */
export function mountBundle(file: string, bundleDir: string, opts: { gpus?: GpuRequest } = {}): { bundle: string; config: Spec } {
  const image = resolve(file);
  if (!existsSync(image)) throw new BundleMountError(image, 'no such SIF image: check the path');
  // A bad GPU request fails before anything is mounted.
  const addGpus = opts.gpus ? ((spec: Spec) => withGpus(spec, opts.gpus!)) : (spec: Spec) => spec;
  addGpus({ ociVersion: OCI_VERSION, root: { path: 'rootfs' } });
  const bundle = resolve(bundleDir);
  if (existsSync(bundle) && readdirSync(bundle).length > 0) throw new BundleMountError(bundle, 'the bundle folder is not empty: pick a new or empty folder');
  const created = !existsSync(bundle);
  mkdirSync(bundle, { recursive: true });
  const priv = join(bundle, PRIVATE);
  const undo: (() => void)[] = [];
  try {
    mkdirSync(priv);
    undo.push(() => rmdirSync(priv));
    sh(['mount', '-t', 'tmpfs', '-o', 'mode=700', 'tmpfs', priv], bundle);
    undo.push(() => sh(['umount', priv], priv));
    const lower = join(priv, 'image');
    mountSif(image, lower);
    undo.push(() => unmountSif(lower));
    for (const d of ['upper', 'work']) mkdirSync(join(priv, d));
    const rootfs = join(bundle, 'rootfs');
    mkdirSync(rootfs);
    undo.push(() => rmdirSync(rootfs));
    sh(['mount', '-t', 'overlay', '-o', `lowerdir=${lower},upperdir=${join(priv, 'upper')},workdir=${join(priv, 'work')}`, 'overlay', rootfs], bundle);
    undo.push(() => sh(['umount', rootfs], rootfs));
    const config = addGpus(bundleSpec(image, lower));
    writeFileSync(join(bundle, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    return { bundle, config };
  } catch (err) {
    for (const u of undo.reverse()) {
      try {
        u();
      } catch {
        // keep undoing; the first error is the one to report
      }
    }
    if (created) rmSync(bundle, { recursive: true, force: true });
    throw err;
  }
}

/** `oci umount`: undoes `oci mount`, leaving the bundle folder empty (and removed if it is). */
export function unmountBundle(bundleDir: string): void {
  const bundle = existsSync(bundleDir) ? realpathSync(bundleDir) : resolve(bundleDir);
  const priv = join(bundle, PRIVATE);
  const rootfs = join(bundle, 'rootfs');
  if (!existsSync(priv) || !mountEntry(priv)) throw new BundleMountError(bundle, 'is not a bundle made by `sifkube oci mount`: nothing to unmount');
  if (mountEntry(rootfs)?.fstype === 'overlay') sh(['umount', rootfs], rootfs);
  if (mountEntry(join(priv, 'image'))) unmountSif(join(priv, 'image'));
  sh(['umount', priv], priv);
  rmSync(join(bundle, 'config.json'), { force: true });
  rmdirSync(priv);
  if (existsSync(rootfs)) rmdirSync(rootfs);
  if (readdirSync(bundle).length === 0) rmdirSync(bundle);
}
