import { appendFileSync, readFileSync } from 'node:fs';
import { SifkubeError, UsageError } from '../../errors.js';
import * as rt from '../index.js';
import { parseFlags, type FlagSpecs, type Flags } from './args.js';
import { COMMANDS, HELP } from './commands.js';

const GLOBAL: FlagSpecs = {
  root: { kind: 'string' },
  log: { kind: 'string' },
  'log-format': { kind: 'string' },
  debug: { kind: 'bool' },
  'systemd-cgroup': { kind: 'bool' },
  rootless: { kind: 'string' },
  criu: { kind: 'string' },
  help: { kind: 'bool', short: 'h' },
  version: { kind: 'bool', short: 'v' },
};

/** Sends warnings and errors to --log (text or JSON lines, as runc writes them) or to stderr. */
function configureLog(g: Flags): (level: 'debug' | 'info' | 'warning' | 'error', msg: string) => void {
  const file = g.log as string | undefined;
  const json = g['log-format'] === 'json';
  if (g['log-format'] !== undefined && !['json', 'text'].includes(g['log-format'] as string)) {
    throw new UsageError(`unknown --log-format ${String(g['log-format'])}: use text or json`);
  }
  const sink = (level: 'debug' | 'info' | 'warning' | 'error', msg: string) => {
    if (level === 'debug' && !g.debug) return;
    const time = new Date().toISOString();
    const line = json ? `${JSON.stringify({ level, msg, time })}\n` : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
    if (file) appendFileSync(file, line);
    else if (level !== 'error') process.stderr.write(line);
  };
  rt.setLogSink(sink);
  return sink;
}

/** Entry of `sifkube-oci`: runc's command line over the runtime library. Resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let log: ReturnType<typeof configureLog> | undefined;
  try {
    const { flags: g, rest } = parseFlags(argv, GLOBAL, 'sifkube-oci');
    log = configureLog(g);
    if (g.version) {
      process.stdout.write(`sifkube-oci version ${JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')).version}\nspec: 1.2.0\n`);
      return 0;
    }
    const [name, ...args] = rest;
    if (g.help || !name || name === 'help') {
      process.stdout.write(HELP);
      return name || g.help ? 0 : 2;
    }
    if (g['systemd-cgroup']) throw new rt.NotSupportedError('--systemd-cgroup: sifkube-oci manages cgroupfs paths only');
    const cmd = COMMANDS[name];
    if (!cmd) throw new UsageError(`unknown command ${name}: see \`sifkube-oci --help\``);
    const { flags, rest: positional } = parseFlags(args, cmd.flags, name);
    if (positional.length < cmd.minArgs) throw new UsageError(`${name}: ${cmd.usage}`);
    return await cmd.run({ root: (g.root as string | undefined) ?? rt.DEFAULT_ROOT, flags, args: positional });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`sifkube-oci: ${msg}\n`);
    log?.('error', msg);
    if (!(err instanceof SifkubeError) && process.env.SIFKUBE_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return 1;
  }
}
