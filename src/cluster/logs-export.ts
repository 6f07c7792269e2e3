import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeLayout } from './components/layout.js';
import { ClusterConfigError } from './errors.js';
import { kubectl } from './kubectl.js';
import { apiServerReady } from './lifecycle/wait.js';
import { clusterStatus } from './status.js';
import type { ClusterState } from './state/store.js';

/** Per-node files worth a bug report (never the PKI's keys). */
const NODE_FILES = ['components.json', 'supervisor.json', 'kubelet.yaml', 'kube-proxy.yaml', 'cni'];

/**
 * `sifkube logs export DIR`: every component's log and the node state (supervisor status, generated
 * configurations), the cluster state and status, and what the API server says of the nodes and pods
 * when it answers, under DIR/<cluster>/. Returns the files written.
 */
export async function exportLogs(state: ClusterState, dir: string): Promise<string[]> {
  const out = join(dir, state.plan.name);
  if (existsSync(out) && readdirSync(out).length > 0) throw new ClusterConfigError('logs export', 'DIR', `${out} is not empty`, 'pass another folder, or empty that one');
  mkdirSync(out, { recursive: true });
  const written: string[] = [];
  const write = (file: string, text: string) => {
    writeFileSync(join(out, file), text);
    written.push(file);
  };
  write('state.json', `${JSON.stringify(state, null, 2)}\n`);
  write('status.json', `${JSON.stringify(clusterStatus(state.plan.name), null, 2)}\n`);
  for (const node of state.plan.nodes) {
    const layout = nodeLayout(state.plan, node);
    for (const f of ['logs', ...NODE_FILES]) {
      const src = join(layout.dir, f);
      if (!existsSync(src)) continue;
      cpSync(src, join(out, 'nodes', node.name, f), { recursive: true });
      written.push(join('nodes', node.name, f));
    }
  }
  if (await apiServerReady(state)) {
    for (const [file, args] of [
      ['nodes.yaml', ['get', 'nodes', '-o', 'yaml']],
      ['pods.txt', ['get', 'pods', '-A', '-o', 'wide']],
      ['events.txt', ['get', 'events', '-A']],
    ] as const) {
      try {
        write(file, kubectl(state, [...args]));
      } catch (err) {
        write(file, `${(err as Error).message}\n`);
      }
    }
  }
  return written;
}
