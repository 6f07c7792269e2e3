import { execFileSync } from 'node:child_process';
import { InvalidStatusError } from './errors.js';
import { processTree } from './processes.js';
import { DEFAULT_ROOT, readRecord, statusOf } from './state.js';

/** The host pids of the container's processes (the init and its descendants). */
export function containerPids(id: string, opts: { root?: string } = {}): number[] {
  const root = opts.root ?? DEFAULT_ROOT;
  const rec = readRecord(root, id);
  const status = statusOf(root, rec);
  if (status === 'stopped' || status === 'creating') return [];
  return processTree(rec.initPid!);
}

/** runc's `ps` table: `ps` run with the given options (default -ef), keeping the header and our rows. */
export function psTable(id: string, psArgs: string[], opts: { root?: string } = {}): string {
  const pids = new Set(containerPids(id, opts));
  if (pids.size === 0) throw new InvalidStatusError(id, 'stopped', 'it has no processes to list');
  const lines = execFileSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' }).trimEnd().split('\n');
  const col = lines[0].trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw new InvalidStatusError(id, 'running', `ps ${psArgs.join(' ')} prints no PID column: pass options that do`);
  return `${[lines[0], ...lines.slice(1).filter((l) => pids.has(Number(l.trim().split(/\s+/)[col])))].join('\n')}\n`;
}
