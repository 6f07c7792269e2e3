import { UsageError } from '../errors.js';

/** A positive integer argument (an object ID, a group, a count), or a one-line usage error. */
export function positiveInt(name: string, value: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > 0xffffffff) {
    throw new UsageError(`${name} ${JSON.stringify(value)} is not a positive integer: give a number such as 1`);
  }
  return Number(value);
}

/** KEY=VALUE pairs (repeatable flags) as an object. */
export function keyValues(name: string, pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs) return undefined;
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i < 1) throw new UsageError(`${name} ${JSON.stringify(p)} is not KEY=VALUE: write it as ${name} KEY=VALUE`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

/** An ISO 8601 time flag, or a one-line usage error. */
export function parseTime(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) throw new UsageError(`--time ${JSON.stringify(value)} is not a time: write it as 2024-01-02T03:04:05Z`);
  return t;
}

/** A duration flag (`90s`, `5m`, `1h`, `0`) in milliseconds, or a one-line usage error. */
export function parseDuration(name: string, value: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(value);
  if (!m || (m[2] === undefined && Number(m[1]) !== 0)) throw new UsageError(`${name} ${JSON.stringify(value)} is not a duration: write it as 90s, 5m or 0`);
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  return Number(m[1]) * (unit[m[2] ?? 'ms'] ?? 1);
}

/** `HOST:NODEPORT[/udp]` port mappings of `init --port`. */
export function parsePortMappings(values: string[] | undefined): { hostPort: number; containerPort: number; protocol: 'TCP' | 'UDP' }[] {
  return (values ?? []).map((v) => {
    const m = /^([0-9]{1,5}):([0-9]{1,5})(?:\/(tcp|udp))?$/i.exec(v);
    const ok = m && [m[1], m[2]].every((p) => Number(p) >= 1 && Number(p) <= 65535);
    if (!m || !ok) throw new UsageError(`--port ${JSON.stringify(v)} is not HOST:NODEPORT: write it as 8080:30080 (ports 1-65535, optional /udp)`);
    return { hostPort: Number(m[1]), containerPort: Number(m[2]), protocol: (m[3]?.toUpperCase() ?? 'TCP') as 'TCP' | 'UDP' };
  });
}

/**
 * Splits a command's raw words at the first `--`: what comes before is ours to parse, what comes
 * after is another program's command line, passed on word for word (oclif's parser would drop any
 * later `--` and take flags it knows from it).
 */
export function splitAtDashes(words: string[]): { own: string[]; passed?: string[] } {
  const at = words.indexOf('--');
  return at < 0 ? { own: words } : { own: words.slice(0, at), passed: words.slice(at + 1) };
}
