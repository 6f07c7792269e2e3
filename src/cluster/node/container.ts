import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants } from 'node:os';
import { deleteContainer, killContainer, runContainer } from '../../runtime/index.js';
import { helperPath } from '../../runtime/native.js';
import { nodeLayout } from '../components/layout.js';
import { HostSetupError } from '../errors.js';
import { addNodeNetns, attachNode } from '../network/links.js';
import type { ClusterNames } from '../names.js';
import type { ClusterPlan, NodePlan } from '../plan.js';
import type { ComponentSpec } from '../supervisor/index.js';
import { writeNodeComponents } from './boot.js';
import { mountNodeRootfs } from './rootfs.js';
import { nodeSpec, writeNodeBundle } from './spec.js';

const SIFKUBE_OCI = fileURLToPath(new URL('../../../../bin/sifkube-oci.js', import.meta.url));

/**
 * The runc-compatible command line that runs node containers: sifkube's own runtime (DESIGN.md), or
 * SIFKUBE_NODE_RUNTIME (runc, crun) to compare against a peer.
 */
export function defaultNodeRuntime(): string {
  return process.env.SIFKUBE_NODE_RUNTIME || SIFKUBE_OCI;
}

/** The runtime that started the cluster's nodes (recorded beside its state), else the default. */
export function recordedNodeRuntime(names: ClusterNames): string {
  const file = join(nodeRuntimeRoot(names), 'runtime');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : defaultNodeRuntime();
}

/** The node runtime's state folder is the cluster's own, so delete finds it. */
export function nodeRuntimeRoot(names: ClusterNames): string {
  return `/run/sifkube/clusters/${names.cluster}/runtime`;
}

/** The container id of a node: named after the cluster's id, unique on the host. */
export function nodeContainerId(names: ClusterNames, node: NodePlan): string {
  return `${names.netnsPrefix}${node.name}`;
}

export const SIFKUBE_BIN = fileURLToPath(new URL('../../../../bin/sifkube.js', import.meta.url));

/**
 * The node container's command: the native helper's node-init as PID 1 (it reaps orphans, which
 * Node.js as PID 1 would not), running `sifkube node boot` with this very Node.js and sifkube.
 */
export function nodeEntry(cluster: string, node: NodePlan): string[] {
  return [helperPath(), 'node-init', process.execPath, SIFKUBE_BIN, 'node', 'boot', '--name', cluster, '--node', node.name];
}

export interface StartNodeOptions {
  /** the runc-compatible runtime binary; default defaultNodeRuntime() */
  runtime?: string;
  /** the node's first process; default nodeEntry() */
  entry?: string[];
  components: ComponentSpec[];
}

/**
 * Starts one node: a network namespace attached to the bridge, the supervisor's component list, the
 * overlay root, the OCI bundle, and the container itself (detached; its output in logs/node.log).
 * Ours runs in-process (a CLI start per node would cost more than the work, as for delete); a peer
 * runtime through its command line.
 */
export async function startNode(plan: ClusterPlan, node: NodePlan, opts: StartNodeOptions): Promise<{ id: string; netns: string }> {
  const layout = nodeLayout(plan, node);
  const netns = addNodeNetns(plan.names, node);
  attachNode(plan, node, netns);
  writeNodeComponents(layout, opts.components);
  const bundle = writeNodeBundle(layout, nodeSpec(plan, node, layout, mountNodeRootfs(layout), netns, opts.entry ?? nodeEntry(plan.name, node)));
  const root = nodeRuntimeRoot(plan.names);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const runtime = opts.runtime ?? defaultNodeRuntime();
  writeFileSync(join(root, 'runtime'), runtime);
  mkdirSync(layout.logs, { recursive: true });
  const log = join(layout.logs, 'node.log');
  const fd = openSync(log, 'a');
  const id = nodeContainerId(plan.names, node);
  const failed = (why: string) => new HostSetupError(`starting node ${node.name} with ${runtime}`, why);
  try {
    if (runtime === SIFKUBE_OCI) {
      await runContainer(id, { root, bundle, detach: true, stdio: ['ignore', fd, fd] }).catch((err: Error) => {
        throw failed(err.message);
      });
    } else {
      const r = spawnSync(runtime, ['--root', root, 'run', '-d', '--bundle', bundle, id], { stdio: ['ignore', fd, fd] });
      if (r.error || r.status !== 0) throw failed(r.error?.message ?? readFileSync(log, 'utf8').trim().split('\n').pop() ?? `exit ${r.status}`);
    }
  } finally {
    closeSync(fd);
  }
  return { id, netns };
}

/** Deletes one node container (force: its processes are killed); ours in-process. */
export async function deleteNodeContainer(names: ClusterNames, id: string, runtime = recordedNodeRuntime(names)): Promise<void> {
  const root = nodeRuntimeRoot(names);
  if (runtime === SIFKUBE_OCI) await deleteContainer(id, { root, force: true }).catch(() => undefined);
  else spawnSync(runtime, ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
}

/** Sends SIGTERM to a node container's first process (a clean stop of its supervisor); ours in-process. */
export function terminateNodeContainer(names: ClusterNames, id: string): void {
  const root = nodeRuntimeRoot(names);
  const runtime = recordedNodeRuntime(names);
  if (runtime !== SIFKUBE_OCI) spawnSync(runtime, ['--root', root, 'kill', id, 'TERM'], { stdio: 'ignore' });
  else {
    try {
      killContainer(id, constants.signals.SIGTERM, { root });
    } catch {
      return; // not running: nothing to stop
    }
  }
}

/**
 * Deletes the cluster's node containers from the runtime's state (their processes are already killed)
 * and the state folder. Ours is called in-process (a CLI start per node would cost more than the work).
 */
export async function removeNodeContainers(names: ClusterNames): Promise<string[]> {
  const root = nodeRuntimeRoot(names);
  if (!existsSync(root)) return [];
  const runtime = recordedNodeRuntime(names);
  const ids = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  for (const id of ids) await deleteNodeContainer(names, id, runtime);
  rmSync(`/run/sifkube/clusters/${names.cluster}`, { recursive: true, force: true });
  return ids;
}
