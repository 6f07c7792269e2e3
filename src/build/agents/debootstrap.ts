import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BuildStepError, DefinitionError } from '../errors.js';
import type { Stage } from '../definition.js';
import type { BootstrapAgent } from './agent.js';

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';

function argv(stage: Stage, file: string, rootfs: string): string[] {
  const mirror = stage.header.mirrorurl || DEFAULT_MIRROR;
  if (!/^(https?|file):\/\//.test(mirror)) throw new DefinitionError(file, stage.headerLines.mirrorurl, `MirrorURL: ${mirror} is not a URL: write http://deb.debian.org/debian or another mirror`);
  if (!/^[a-z][a-z0-9.-]*$/.test(stage.header.osversion)) throw new DefinitionError(file, stage.headerLines.osversion, `OSVersion: ${stage.header.osversion} is not a suite name: write bookworm, trixie, stable, ...`);
  const include = (stage.header.include ?? '').split(/[\s,]+/).filter(Boolean);
  for (const p of include) if (!/^[a-z0-9][a-z0-9+.-]*$/.test(p)) throw new DefinitionError(file, stage.headerLines.include, `Include: ${p} is not a package name`);
  // Singularity's debootstrap agent builds the minbase variant too.
  return ['--variant=minbase', ...(include.length > 0 ? [`--include=${include.join(',')}`] : []), stage.header.osversion, rootfs, mirror];
}

/**
 * `Bootstrap: debootstrap` (OSVersion, MirrorURL, Include): Debian's debootstrap, run in a mount
 * namespace of its own so the /proc and /sys it mounts in the new root vanish with it, whatever
 * happens.
 */
export const debootstrapAgent: BootstrapAgent = {
  inputs(stage, ctx) {
    return Promise.resolve(`debootstrap ${argv(stage, ctx.file, '').join(' ')}`);
  },
  async bootstrap(stage, ctx) {
    const args = argv(stage, ctx.file, ctx.rootfs);
    const log = join(ctx.work, 'debootstrap.log');
    const fd = openSync(log, 'a');
    let code: number | null;
    try {
      code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn('unshare', ['--mount', '--propagation', 'private', 'debootstrap', ...args], { stdio: ['ignore', fd, fd], signal: ctx.signal });
        const timer = setInterval(() => ctx.onOutput(readFileSync(log, 'utf8').trimEnd().split('\n').pop() ?? ''), 500);
        child.once('error', (e) => {
          clearInterval(timer);
          reject(new BuildStepError(`debootstrap ${args.join(' ')}`, ctx.signal?.aborted ? 'interrupted' : e.message));
        });
        child.once('close', (c) => {
          clearInterval(timer);
          resolve(c);
        });
      });
    } finally {
      closeSync(fd);
    }
    if (code !== 0) {
      const out = readFileSync(log, 'utf8');
      const missing = /debootstrap: (not found|No such file)/.test(out) || code === 127;
      throw new BuildStepError(`debootstrap ${args.join(' ')}`, missing ? 'debootstrap is not installed: apt-get install -y debootstrap' : `exited with ${code}`, out.trimEnd().split('\n').slice(-15).join('\n'));
    }
    return { labels: {} };
  },
};
