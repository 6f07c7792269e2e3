/**
 * The script sections: %setup on the host (in a mount namespace of its own, so a mount it makes
 * cannot outlive it), %post inside the stage's root filesystem with sifkube's runtime, %test inside
 * the finished one, read-only. Scripts run with `-e -x` as Singularity runs them, so a failure
 * shows the failing command: the error carries the output's last lines.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runScript, type ScriptRun } from './container.js';
import type { Script } from './definition.js';
import { BuildStepError } from './errors.js';
import { POST_ENVIRONMENT, POST_LABELS } from './metadata.js';

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Lines of output shown with a failure. */
const TAIL = 25;

export interface SectionContext {
  /** The build's name: its containers are NAME-N. */
  name: string;
  /** Folder for logs, bundles and the runtime's state. */
  work: string;
  onOutput: (line: string) => void;
  /** Aborted when the build is interrupted (a %post container gets the signal from the runtime itself). */
  signal?: AbortSignal;
}

function argv(s: Script): string[] {
  return [s.interpreter ?? '/bin/sh', '-e', '-x', '-c', s.body];
}

function failure(section: string, s: Script, code: number, log: string, signal?: AbortSignal): BuildStepError {
  const out = readFileSync(log, 'utf8').trimEnd().split('\n');
  if (signal?.aborted) return new BuildStepError(`${section} (line ${s.line})`, 'interrupted', out.slice(-TAIL).join('\n'));
  const failed = [...out].reverse().find((l) => l.startsWith('+ '));
  const why = `exited with ${code}${failed ? ` at "${failed.slice(2)}"` : ''}`;
  return new BuildStepError(`${section} (line ${s.line})`, why, out.slice(-TAIL).join('\n'));
}

/** %setup: on the host, SINGULARITY_ROOTFS naming the stage's root filesystem, from the definition's folder. */
export async function runSetup(s: Script, rootfs: string, dir: string, ctx: SectionContext): Promise<void> {
  const log = join(ctx.work, `setup-${randomBytes(4).toString('hex')}.log`);
  const fd = openSync(log, 'a');
  let code: number;
  try {
    code = await new Promise<number>((resolve, reject) => {
      const child = spawn('unshare', ['--mount', '--propagation', 'private', ...argv(s)], { cwd: dir, stdio: ['ignore', fd, fd], signal: ctx.signal, env: { ...process.env, SINGULARITY_ROOTFS: rootfs, APPTAINER_ROOTFS: rootfs } });
      child.once('error', (e) => reject(new BuildStepError(`%setup (line ${s.line})`, ctx.signal?.aborted ? 'interrupted' : e.message)));
      child.once('close', (c, sig) => resolve(c ?? (sig ? 128 : 255)));
    });
  } finally {
    closeSync(fd);
  }
  if (code !== 0) throw failure('%setup', s, code, log, ctx.signal);
}

/** Runs a section's container; a container that cannot start (no shell in the image) names the section. */
async function inContainer(section: string, s: Script, run: Omit<ScriptRun, 'id'>, name: string): Promise<number> {
  try {
    return await runScript({ ...run, id: `${name}-${randomBytes(3).toString('hex')}` });
  } catch (err) {
    const interp = s.interpreter ?? '/bin/sh';
    throw new BuildStepError(`${section} (line ${s.line})`, `cannot run it in the image: ${(err as Error).message}: the image needs ${interp} (copy one in with %files, or start from a base that has it)`);
  }
}

/** %post: inside `rootfs`, as root, with the host's network. */
export async function runPost(s: Script, rootfs: string, baseEnv: string[], ctx: SectionContext): Promise<void> {
  const log = join(ctx.work, `post-${randomBytes(4).toString('hex')}.log`);
  const env = [
    PATH,
    'HOME=/root',
    'LC_ALL=C',
    ...baseEnv.filter((e) => !e.startsWith('PATH=') && !e.startsWith('HOME=')),
    'SINGULARITY_ROOTFS=/',
    `SINGULARITY_ENVIRONMENT=${POST_ENVIRONMENT}`,
    `SINGULARITY_LABELS=${POST_LABELS}`,
  ];
  const code = await inContainer('%post', s, { rootfs, args: argv(s), env, work: ctx.work, log, onOutput: ctx.onOutput, signal: ctx.signal }, ctx.name);
  if (code !== 0) throw failure('%post', s, code, log, ctx.signal);
}

/** %test: in the finished root filesystem, read-only, with the image's environment sourced. */
export async function runTest(s: Script, rootfs: string, ctx: SectionContext): Promise<void> {
  const log = join(ctx.work, `test-${randomBytes(4).toString('hex')}.log`);
  const sourced = 'for f in /.singularity.d/env/*.sh; do [ -f "$f" ] && . "$f"; done; exec "$@"';
  const args = ['/bin/sh', '-c', sourced, 'sh', s.interpreter ?? '/bin/sh', '-e', '-x', '/.singularity.d/test'];
  const code = await inContainer('%test', s, { rootfs, args, env: [PATH, 'HOME=/root'], readonly: true, work: ctx.work, log, onOutput: ctx.onOutput, signal: ctx.signal }, ctx.name);
  if (code !== 0) throw failure('%test', s, code, log, ctx.signal);
}
