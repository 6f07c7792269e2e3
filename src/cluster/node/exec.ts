import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NodeNotRunningError, UnknownNodeError } from '../errors.js';
import type { ClusterState } from '../state/store.js';
import { nodeContainerId, nodeRuntimeRoot, recordedNodeRuntime } from './container.js';

/**
 * Runs a command inside a node's namespaces through the runtime that runs the node (`exec`), on the
 * caller's terminal; resolves to the command's exit status. `tty`: a pseudo-terminal (for shells).
 */
export function execInNode(state: ClusterState, nodeName: string, command: string[], tty: boolean): Promise<number> {
  const plan = state.plan;
  const node = plan.nodes.find((n) => n.name === nodeName);
  if (!node) throw new UnknownNodeError(plan.name, nodeName, plan.nodes.map((n) => n.name));
  const root = nodeRuntimeRoot(plan.names);
  const id = nodeContainerId(plan.names, node);
  if (!existsSync(join(root, id))) throw new NodeNotRunningError(plan.name, nodeName);
  const runtime = recordedNodeRuntime(plan.names);
  return new Promise((resolve, reject) => {
    const child = spawn(runtime, ['--root', root, 'exec', ...(tty ? ['--tty'] : []), id, ...command], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
