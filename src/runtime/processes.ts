import { readFileSync, readdirSync } from 'node:fs';
import { constants } from 'node:os';
import { InvalidInputError } from './errors.js';

/** A signal given as a name (KILL, SIGKILL) or a number, as runc accepts it. */
export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n > 0 && n < 65) return n;
  } else {
    const name = text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`;
    const n = (constants.signals as Record<string, number>)[name];
    if (n) return n;
  }
  throw new InvalidInputError(`unknown signal ${JSON.stringify(text)}: use a name such as TERM or KILL, or a number from 1 to 64`);
}

/** pid → parent pid for every process on the host. */
function parents(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue;
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(d));
    children.set(ppid, list);
  }
  return children;
}

/** The process and all its descendants (the container's processes when it has no cgroup). */
export function processTree(pid: number): number[] {
  const children = parents();
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

export function signal(pid: number, sig: number): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Polls until `gone()` holds (processes exit within milliseconds of SIGKILL), for at most `ms`. */
export async function waitFor(gone: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  for (let delay = 1; !gone(); delay = Math.min(delay * 2, 20)) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, delay));
  }
  return true;
}
