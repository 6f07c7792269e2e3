import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeLayout, type NodeLayout } from '../components/layout.js';
import { UnknownNodeError } from '../errors.js';
import { sh } from '../host.js';
import { KUBELET_SYSCTLS, readSysctl } from '../network/sysctl.js';
import type { ClusterPlan, NodePlan } from '../plan.js';
import { readClusterState } from '../state/store.js';
import { killAndWait } from '../processes.js';
import { readSupervisorStatus, Supervisor, type ComponentSpec } from '../supervisor/index.js';
import { startNodeCri } from './cri.js';
import { DEFAULT_CONFIG } from '../../cri/index.js';

function componentsFile(layout: NodeLayout): string {
  return join(layout.dir, 'components.json');
}

/** Records what the node's supervisor will run (written on the host, read by `node boot` inside the node). */
export function writeNodeComponents(layout: NodeLayout, components: ComponentSpec[]): void {
  mkdirSync(layout.dir, { recursive: true });
  writeFileSync(componentsFile(layout), `${JSON.stringify(components, null, 2)}\n`);
}

/**
 * Keeps the kubelet's writes to global sysctls inside the node: a small file with the current value
 * is bind-mounted over each /proc/sys entry in the node's mount namespace (KUBERNETES.md).
 */
export function shadowGlobalSysctls(layout: NodeLayout): void {
  const dir = join(layout.dir, 'sysctl');
  mkdirSync(dir, { recursive: true });
  for (const key of KUBELET_SYSCTLS) {
    const file = join(dir, key);
    writeFileSync(file, `${readSysctl(key)}\n`);
    sh('mount', ['--bind', file, `/proc/sys/${key.replace(/\./g, '/')}`]);
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Components a crashed `node boot` left running (node-init started it again): killed before the new
 * supervisor starts them, or they would hold their ports. A PID counts only if it still runs the
 * component's command (PIDs are reused).
 */
async function stopLeftoverComponents(layout: NodeLayout, components: ComponentSpec[]): Promise<void> {
  if (!existsSync(layout.supervisorStatus)) return;
  const previous = readSupervisorStatus(layout.supervisorStatus).components;
  const pids = previous.flatMap((c) => {
    const spec = components.find((s) => s.name === c.name);
    return c.pid && spec && cmdline(c.pid).startsWith(`${spec.command}\0`) ? [c.pid] : [];
  });
  await killAndWait(pids);
}

function findNode(plan: ClusterPlan, name: string): NodePlan {
  const node = plan.nodes.find((n) => n.name === name);
  if (!node) throw new UnknownNodeError(plan.name, name, plan.nodes.map((n) => n.name));
  return node;
}

/**
 * The node's first process (inside the node container): shadows the global sysctls, starts the
 * control plane, the CRI server in-process, then the kubelet (it needs the CRI's socket), and supervises them until
 * SIGTERM/SIGINT, when it stops them and the CRI server (containers keep running) and returns.
 */
export async function bootNode(cluster: string, nodeName: string): Promise<void> {
  const state = readClusterState(cluster);
  const plan = state.plan;
  const layout = nodeLayout(plan, findNode(plan, nodeName));
  shadowGlobalSysctls(layout);
  const components = JSON.parse(readFileSync(componentsFile(layout), 'utf8')) as ComponentSpec[];
  await stopLeftoverComponents(layout, components);
  const sup = new Supervisor({ logDir: layout.logs, statusFile: layout.supervisorStatus });
  // Only the kubelet talks to the CRI: the control plane starts first, so the API server's start
  // (seconds) overlaps the CRI server's. What waits for the kubelet (the GPU device plugin) starts with it.
  const withKubelet = (c: ComponentSpec) => c.name === 'kubelet' || (c.after ?? []).includes('kubelet');
  sup.start(components.filter((c) => !withKubelet(c)));
  // A state written before clusters had registry settings has none.
  const cri = await startNodeCri(plan, layout, state.config.registry ?? DEFAULT_CONFIG.registry).catch(async (err: unknown) => {
    await sup.stop();
    throw err;
  });
  sup.start(components.filter(withKubelet));
  await new Promise<void>((resolve) => {
    const stop = () => void sup.stop().then(() => cri.close()).then(resolve);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
