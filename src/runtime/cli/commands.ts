import { readFileSync } from 'node:fs';
import { UsageError } from '../../errors.js';
// Each module directly, not the layer's index: the CLI must not load the SIF code (oci mount's).
import { pauseContainer, resumeContainer, updateContainer } from '../cgroup-ops.js';
import { createContainer, type CreateOptions } from '../create.js';
import { deleteContainer } from '../delete.js';
import { InvalidInputError, NotSupportedError } from '../errors.js';
import { execInContainer } from '../exec.js';
import { features } from '../features.js';
import { killContainer } from '../kill.js';
import { parseSignal } from '../processes.js';
import { containerPids, psTable } from '../ps.js';
import { containerSpec, containerState, listContainers } from '../query.js';
import { runContainer } from '../run.js';
import type { Process } from '../spec/types.js';
import { validateProcess } from '../spec/validate.js';
import { startContainer } from '../start.js';

import type { FlagSpecs, Flags } from './args.js';

export interface Invocation {
  root: string;
  flags: Flags;
  args: string[];
}

interface Command {
  usage: string;
  minArgs: number;
  flags: FlagSpecs;
  run: (inv: Invocation) => Promise<number>;
}

const CREATE_FLAGS: FlagSpecs = {
  bundle: { kind: 'string', short: 'b' },
  'console-socket': { kind: 'string' },
  'pid-file': { kind: 'string' },
  'no-pivot': { kind: 'bool' },
  'no-new-keyring': { kind: 'bool' },
  'preserve-fds': { kind: 'string' },
  nv: { kind: 'bool' },
  gpus: { kind: 'string' },
  'gpu-root': { kind: 'string' },
};

const str = (f: Flags, k: string) => f[k] as string | undefined;

/** --preserve-fds N: a count (the library checks that the fds are open). */
function preserveFds(f: Flags): number {
  const n = str(f, 'preserve-fds') ?? '0';
  if (!/^\d+$/.test(n)) throw new UsageError(`--preserve-fds ${n}: use a count of fds (0 or more) after fd 2`);
  return Number(n);
}

/** --nv (every GPU) or --gpus LIST (indexes, UUIDs or all), found under --gpu-root (default /). */
function gpuRequest(f: Flags): CreateOptions['gpus'] {
  const list = str(f, 'gpus');
  if (list === undefined && !f.nv) {
    if (str(f, 'gpu-root') !== undefined) throw new UsageError('--gpu-root: give --nv or --gpus too (it says where their driver tree is)');
    return undefined;
  }
  const gpus = list === undefined ? ['all'] : list.split(',').map((g) => g.trim());
  if (gpus.some((g) => g === '')) throw new UsageError(`--gpus ${list}: list GPU indexes or UUIDs separated by commas, or all`);
  return { gpus, root: str(f, 'gpu-root') };
}

function createOptions(inv: Invocation): CreateOptions {
  return {
    gpus: gpuRequest(inv.flags),
    root: inv.root,
    bundle: str(inv.flags, 'bundle') ?? '.',
    pidFile: str(inv.flags, 'pid-file'),
    consoleSocket: str(inv.flags, 'console-socket'),
    noPivot: !!inv.flags['no-pivot'],
    preserveFds: preserveFds(inv.flags),
    stdio: ['inherit', 'inherit', 'inherit'],
  };
}

const print = (text: string) => process.stdout.write(text);

/** runc's table layout (Go tabwriter: min width 12, padding 3). */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(12, ...rows.map((r) => r[c].length + 3)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('')).join('\n') + '\n';
}

/** The process of `exec`: a process.json, or the container's process with the command and flags. */
function execProcess(inv: Invocation, id: string): Process {
  const f = inv.flags;
  const file = str(f, 'process');
  if (file) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new InvalidInputError(`--process ${file}: cannot read it as JSON (${(err as Error).message}): pass a runtime-spec process object`);
    }
    return validateProcess(raw, file);
  }
  if (inv.args.length < 2) throw new UsageError('exec: give a command after the container ID, or --process FILE');
  const base = containerSpec(id, { root: inv.root }).process;
  const p: Process = structuredClone(base ?? { args: [], cwd: '/', user: { uid: 0, gid: 0 } });
  p.args = inv.args.slice(1);
  p.terminal = !!f.tty;
  delete p.consoleSize;
  if (str(f, 'cwd')) p.cwd = str(f, 'cwd')!;
  for (const e of (f.env as string[] | undefined) ?? []) {
    const key = e.split('=')[0];
    p.env = [...(p.env ?? []).filter((x) => x.split('=')[0] !== key), e];
  }
  const user = str(f, 'user');
  if (user) {
    const [uid, gid] = user.split(':');
    if (!/^\d+$/.test(uid) || (gid !== undefined && !/^\d+$/.test(gid))) throw new UsageError(`exec: --user ${user}: use UID[:GID] numbers`);
    p.user = { ...p.user, uid: Number(uid), gid: gid === undefined ? p.user.gid : Number(gid) };
  }
  const gids = (f['additional-gids'] as string[] | undefined) ?? [];
  if (gids.length) p.user.additionalGids = gids.map(Number);
  const caps = (f.cap as string[] | undefined) ?? [];
  if (caps.length) {
    const c = (p.capabilities ??= {});
    // As runc: --cap adds to every set but the ambient one.
    for (const set of ['bounding', 'effective', 'permitted', 'inheritable'] as const) c[set] = [...new Set([...(c[set] ?? []), ...caps])];
  }
  if (f['no-new-privs']) p.noNewPrivileges = true;
  return validateProcess(p, 'exec flags');
}

export const COMMANDS: Record<string, Command> = {
  create: {
    usage: 'create [--bundle DIR] [--console-socket SOCK] [--pid-file FILE] [--no-pivot] [--preserve-fds N] [--nv | --gpus LIST] [--gpu-root DIR] ID',
    minArgs: 1,
    flags: CREATE_FLAGS,
    run: async (inv) => {
      // As runc: the caller's subreaper (a shim) becomes the init's parent and sees its exit.
      await createContainer(inv.args[0], { ...createOptions(inv), reparent: true });
      return 0;
    },
  },
  run: {
    usage: 'run [--bundle DIR] [--detach] [--console-socket SOCK] [--pid-file FILE] [--no-pivot] [--preserve-fds N] [--nv | --gpus LIST] [--gpu-root DIR] ID',
    minArgs: 1,
    flags: { ...CREATE_FLAGS, detach: { kind: 'bool', short: 'd' }, keep: { kind: 'bool' } },
    run: async (inv) => {
      if (inv.flags.keep) throw new NotSupportedError('run --keep');
      const detach = !!inv.flags.detach;
      const r = await runContainer(inv.args[0], { ...createOptions(inv), detach, reparent: detach });
      return r.exitCode ?? 0;
    },
  },
  start: {
    usage: 'start ID',
    minArgs: 1,
    flags: {},
    run: async (inv) => {
      await startContainer(inv.args[0], { root: inv.root });
      return 0;
    },
  },
  state: {
    usage: 'state ID',
    minArgs: 1,
    flags: {},
    run: async (inv) => {
      const s = containerState(inv.args[0], { root: inv.root });
      delete s.exit;
      print(`${JSON.stringify(s, null, 2)}\n`);
      return 0;
    },
  },
  kill: {
    usage: 'kill [--all] ID [SIGNAL]',
    minArgs: 1,
    flags: { all: { kind: 'bool', short: 'a' } },
    run: async (inv) => {
      killContainer(inv.args[0], parseSignal(inv.args[1] ?? 'SIGTERM'), { root: inv.root, all: !!inv.flags.all });
      return 0;
    },
  },
  delete: {
    usage: 'delete [--force] ID',
    minArgs: 1,
    flags: { force: { kind: 'bool', short: 'f' } },
    run: async (inv) => {
      await deleteContainer(inv.args[0], { root: inv.root, force: !!inv.flags.force });
      return 0;
    },
  },
  exec: {
    usage: 'exec [--tty] [--detach] [--pid-file FILE] [--preserve-fds N] [--process FILE] [--cwd DIR] [--env K=V]... [--user UID[:GID]] [--cap CAP]... ID [COMMAND [ARGS...]]',
    minArgs: 1,
    flags: {
      'console-socket': { kind: 'string' },
      cwd: { kind: 'string' },
      env: { kind: 'list', short: 'e' },
      tty: { kind: 'bool', short: 't' },
      user: { kind: 'string', short: 'u' },
      'additional-gids': { kind: 'list', short: 'g' },
      process: { kind: 'string', short: 'p' },
      detach: { kind: 'bool', short: 'd' },
      'pid-file': { kind: 'string' },
      'process-label': { kind: 'string' },
      apparmor: { kind: 'string' },
      'no-new-privs': { kind: 'bool' },
      cap: { kind: 'list', short: 'c' },
      'preserve-fds': { kind: 'string' },
      'ignore-paused': { kind: 'bool' },
    },
    run: async (inv) => {
      const f = inv.flags;
      if (str(f, 'process-label')) throw new NotSupportedError('exec --process-label: this host has no SELinux');
      if (str(f, 'apparmor')) throw new NotSupportedError('exec --apparmor: this host has no AppArmor');
      const id = inv.args[0];
      const preserve = preserveFds(f);
      const e = await execInContainer(id, {
        root: inv.root,
        process: execProcess(inv, id),
        detach: !!f.detach,
        reparent: true,
        pidFile: str(f, 'pid-file'),
        consoleSocket: str(f, 'console-socket'),
        preserveFds: preserve,
        stdio: ['inherit', 'inherit', 'inherit'],
      });
      return f.detach ? 0 : await e.exited;
    },
  },
  list: {
    usage: 'list [--format table|json] [--quiet]',
    minArgs: 0,
    flags: { format: { kind: 'string', short: 'f' }, quiet: { kind: 'bool', short: 'q' } },
    run: async (inv) => {
      const all = listContainers({ root: inv.root });
      const format = str(inv.flags, 'format') ?? 'table';
      if (inv.flags.quiet) print(all.map((c) => `${c.id}\n`).join(''));
      else if (format === 'json') print(`${JSON.stringify(all.length ? all.map(({ exit: _e, ...c }) => c) : null)}\n`);
      else if (format === 'table') print(table([['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...all.map((c) => [c.id, String(c.pid), c.status, c.bundle, c.created, c.owner])]));
      else throw new UsageError(`list: unknown --format ${format}: use table or json`);
      return 0;
    },
  },
  ps: {
    usage: 'ps [--format table|json] ID [PS_OPTIONS...]',
    minArgs: 1,
    flags: { format: { kind: 'string', short: 'f' } },
    run: async (inv) => {
      const format = str(inv.flags, 'format') ?? 'table';
      if (format === 'json') print(`${JSON.stringify(containerPids(inv.args[0], { root: inv.root }))}\n`);
      else if (format === 'table') print(psTable(inv.args[0], inv.args.slice(1), { root: inv.root }));
      else throw new UsageError(`ps: unknown --format ${format}: use table or json`);
      return 0;
    },
  },
  pause: {
    usage: 'pause ID',
    minArgs: 1,
    flags: {},
    run: async (inv) => {
      await pauseContainer(inv.args[0], { root: inv.root });
      return 0;
    },
  },
  resume: {
    usage: 'resume ID',
    minArgs: 1,
    flags: {},
    run: async (inv) => {
      await resumeContainer(inv.args[0], { root: inv.root });
      return 0;
    },
  },
  update: {
    usage: 'update --resources FILE|- ID',
    minArgs: 1,
    flags: { resources: { kind: 'string', short: 'r' } },
    run: async (inv) => {
      const file = str(inv.flags, 'resources');
      if (!file) throw new UsageError('update: pass --resources FILE (or - for stdin) with a runtime-spec linux.resources object');
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'));
      } catch (err) {
        throw new InvalidInputError(`--resources ${file}: cannot read it as JSON (${(err as Error).message})`);
      }
      await updateContainer(inv.args[0], raw, { root: inv.root });
      return 0;
    },
  },
  features: {
    usage: 'features',
    minArgs: 0,
    flags: {},
    run: async () => {
      print(`${JSON.stringify(features(), null, 4)}\n`);
      return 0;
    },
  },
};

export const HELP = `sifkube-oci: an OCI runtime (runc's command line)

usage: sifkube-oci [--root DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND [FLAGS] ARGS

commands:
${Object.values(COMMANDS).map((c) => `  ${c.usage}`).join('\n')}
`;
