import { spawnSync } from 'node:child_process';
import { HostSetupError } from './errors.js';

/** Runs a host program synchronously; a failure is a HostSetupError naming the command and its stderr. */
export function sh(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input });
  if (r.error) throw new HostSetupError(`${cmd} ${args.join(' ')}`, r.error.message);
  if (r.status !== 0) throw new HostSetupError(`${cmd} ${args.join(' ')}`, (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n')[0]);
  return r.stdout;
}

/** Like sh, but reports success instead of throwing: for cleanup, where a missing object is fine. */
export function trySh(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}
