import { spawn } from 'node:child_process';
import { HookError } from './errors.js';
import { runPlan } from './helper-process.js';
import { log } from './log.js';
import { joinPlan } from './plan.js';
import type { Hook, HookKind, Spec } from './spec/types.js';

/** The state document a hook reads on stdin (runtime-spec "State"). */
export interface HookState {
  ociVersion: string;
  id: string;
  status: string;
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

const env = (list: string[] | undefined): Record<string, string> =>
  Object.fromEntries((list ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));

/** Waits for a hook process; rejects on a non-zero exit or when it outlives its timeout. */
function waitHook(kind: HookKind, hook: Hook, child: ReturnType<typeof spawn>, state: HookState): Promise<void> {
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => (stderr += d));
  child.stdout?.resume();
  child.stdin?.on('error', () => {});
  child.stdin?.end(JSON.stringify(state));
  return new Promise<void>((resolve, reject) => {
    const timer = hook.timeout
      ? setTimeout(() => {
          child.kill('SIGKILL');
          reject(new HookError(kind, hook.path, `timed out after ${hook.timeout}s`));
        }, hook.timeout * 1000)
      : undefined;
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new HookError(kind, hook.path, `could not run (${err.message})`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new HookError(kind, hook.path, `failed (${signal ?? `exit ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-1)[0]}` : ''}`));
    });
  });
}

/** runtime-spec: a failing poststart or poststop hook is a warning; the others run, the operation goes on. */
const WARN_ONLY: HookKind[] = ['poststart', 'poststop'];

/** Runs one hook on the host, or in the namespaces of container process `inside`. */
async function runHook(kind: HookKind, hook: Hook, state: HookState, inside?: number): Promise<void> {
  const args = hook.args?.length ? hook.args : [hook.path];
  if (inside === undefined) {
    const child = spawn(hook.path, args.slice(1), { argv0: args[0], env: env(hook.env), stdio: ['pipe', 'pipe', 'pipe'] });
    await waitHook(kind, hook, child, state);
    return;
  }
  const plan = joinPlan(inside, { args, env: hook.env, cwd: '/', user: { uid: 0, gid: 0 } }, { detach: false, bare: { file: hook.path } });
  const { monitor } = await runPlan(plan, { stdio: ['pipe', 'pipe', 'pipe'], detached: false }).catch((err: Error) => {
    throw new HookError(kind, hook.path, `could not run in the container (${err.message})`);
  });
  await waitHook(kind, hook, monitor, state);
}

/**
 * Runs the hooks of one kind in order, each with the state on stdin. `inside` is the pid of a
 * container process whose namespaces the hooks run in (createContainer, startContainer). The first
 * failure ends the others and rejects, except for poststart and poststop hooks: logged, and the rest run.
 */
export async function runHooks(spec: Spec, kind: HookKind, state: HookState, inside?: number): Promise<void> {
  for (const hook of spec.hooks?.[kind] ?? []) {
    try {
      await runHook(kind, hook, state, inside);
    } catch (err) {
      if (!WARN_ONLY.includes(kind)) throw err;
      log('warning', (err as Error).message);
    }
  }
}
