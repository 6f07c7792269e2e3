import { readFileSync } from 'node:fs';

/**
 * Whether `sig` sent to `pid` now would be dropped by the kernel: the process is the init of its
 * own PID namespace and neither catches nor ignores the signal, so from outside it is discarded,
 * not queued. A workload that installs its handler a moment later (a shell's trap just after
 * StartContainer) must still get its stop signal: the caller sends it again once the handler is there.
 */
export function droppedByInit(pid: number, sig: number): boolean {
  const fields = readStatus(pid);
  if (!fields) return false;
  const nspid = (fields.NSpid ?? '').trim().split(/\s+/);
  if (nspid.length < 2 || nspid[nspid.length - 1] !== '1') return false;
  return !hasSignal(fields.SigCgt, sig) && !hasSignal(fields.SigIgn, sig);
}

/** Whether the process now catches `sig` (it has a handler). */
export function catches(pid: number, sig: number): boolean {
  return hasSignal(readStatus(pid)?.SigCgt, sig);
}

function hasSignal(mask: string | undefined, sig: number): boolean {
  return mask !== undefined && ((BigInt(`0x${mask.trim()}`) >> BigInt(sig - 1)) & 1n) === 1n;
}

function readStatus(pid: number): Record<string, string> | undefined {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}
