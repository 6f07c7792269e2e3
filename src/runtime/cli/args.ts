import { UsageError } from '../../errors.js';

/** How one flag is read: a switch, a value, or a value that may repeat. */
export type FlagKind = 'bool' | 'string' | 'list';
export interface FlagSpec {
  kind: FlagKind;
  short?: string;
}
export type FlagSpecs = Record<string, FlagSpec>;
export type Flags = Record<string, boolean | string | string[] | undefined>;

/**
 * Parses flags the way runc's CLI library does: `--name value`, `--name=value`, `-x value`, flags
 * before the positional arguments; the first positional ends the flags (`exec ID CMD -x` keeps -x).
 */
export function parseFlags(argv: string[], specs: FlagSpecs, what: string): { flags: Flags; rest: string[] } {
  const flags: Flags = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const eq = a.indexOf('=');
    const raw = a.replace(/^--?/, '').slice(0, eq < 0 ? undefined : eq - (a.startsWith('--') ? 2 : 1));
    const name = Object.keys(specs).find((k) => k === raw || specs[k].short === raw);
    if (!name) throw new UsageError(`${what}: unknown flag ${a}: see \`sifkube-oci ${what} --help\``);
    const spec = specs[name];
    if (spec.kind === 'bool') {
      flags[name] = eq < 0 ? true : !['false', '0'].includes(a.slice(eq + 1));
      continue;
    }
    let value: string;
    if (eq >= 0) value = a.slice(eq + 1);
    else if (i + 1 < argv.length) value = argv[++i];
    else throw new UsageError(`${what}: flag ${a} needs a value`);
    if (spec.kind === 'list') flags[name] = [...((flags[name] as string[] | undefined) ?? []), value];
    else flags[name] = value;
  }
  return { flags, rest: argv.slice(i) };
}
