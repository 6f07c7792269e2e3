import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { withLockFile } from '../../lock-file.js';
import { checkPersistentDir, preparePersistentDir, stateIn } from './persistent.js';
import { ClusterExistsError, ClusterNotFoundError, ClusterStateError, ClusterConfigError, HostPortInUseError, PersistentDirError } from '../errors.js';
import { portsInUse } from '../network/host-ports.js';
import { sh, trySh } from '../host.js';
import { clusterNames, clustersDir, stateRoot } from '../names.js';
import { planCluster, type ClusterPlan, type TakenSubnet } from '../plan.js';
import type { ClusterConfig } from '../config/types.js';

export const STATE_VERSION = 1;
export const STATE_FILE = 'state.json';

export type ClusterPhase = 'creating' | 'running' | 'stopped' | 'failed' | 'deleting';

/** What sifkube remembers of a cluster (state.json in the cluster's folder). */
export interface ClusterState {
  stateVersion: typeof STATE_VERSION;
  createdAt: string;
  phase: ClusterPhase;
  config: ClusterConfig;
  plan: ClusterPlan;
  /** host sysctls as they were before the first node started; restored by delete */
  sysctls?: Record<string, string>;
  /** forwarding of the host's uplink interfaces before this cluster turned it on; restored by delete */
  uplinks?: Record<string, string>;
  /** set when the state lives on disk (--persistent DIR) instead of a tmpfs */
  persistentDir?: string;
  /** sifkube created persistentDir (delete removes it; a folder the user made is only emptied) */
  persistentDirCreated?: boolean;
  /** --kube-bin-dir of init: nodes added later take their binaries from it too */
  kubeBinDir?: string;
}

/** Host IPv4 routes (main table), as subnets a new cluster must not overlap. */
export function hostRoutes(): TakenSubnet[] {
  const out: TakenSubnet[] = [];
  for (const line of sh('ip', ['-4', '-o', 'route', 'show', 'table', 'main']).split('\n')) {
    const dst = line.split(' ')[0];
    if (!dst || dst === 'default') continue;
    const cidr = dst.includes('/') ? dst : `${dst}/32`;
    const dev = / dev (\S+)/.exec(line)?.[1] ?? '?';
    out.push({ cidr, what: `the host route ${line.trim().split(' proto')[0]} (dev ${dev})` });
  }
  return out;
}

function stateFile(name: string): string {
  return join(clusterNames(name).stateDir, STATE_FILE);
}

/** Reads one cluster's state; ClusterNotFoundError if there is none. */
export function readClusterState(name: string): ClusterState {
  const file = stateFile(name);
  if (!existsSync(file)) throw new ClusterNotFoundError(name);
  let state: ClusterState;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
  } catch (err) {
    throw new ClusterStateError(file, `unreadable (${(err as Error).message})`);
  }
  if (state.stateVersion !== STATE_VERSION) throw new ClusterStateError(file, `state version ${state.stateVersion} is not ${STATE_VERSION}`);
  return state;
}

/** Every cluster with a readable state file, by name (see clusterEntries for the others). */
export function listClusters(): ClusterState[] {
  return clusterEntries().flatMap((e) => (e.state ? [e.state] : []));
}

/** Every cluster folder: its state, or why it cannot be read (a failed init, a damaged file). */
export function clusterEntries(): { name: string; state?: ClusterState; problem?: string }[] {
  return clusterDirNames().map((name) => {
    try {
      return { name, state: readClusterState(name) };
    } catch (err) {
      return { name, problem: err instanceof ClusterNotFoundError ? 'no state file (a failed init?)' : (err as Error).message };
    }
  });
}

/** Names of every cluster folder, with or without a readable state file (a failed init leaves one without). */
export function clusterDirNames(): string[] {
  const dir = clustersDir();
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** Writes the state atomically (write then rename), so a crash never leaves half a file. */
export function writeClusterState(state: ClusterState): void {
  const file = stateFile(state.plan.name);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export function isMountPoint(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === path);
}

/**
 * Plans a new cluster and creates its folder: a tmpfs (default) or a link to `persistentDir`.
 * Fails before creating anything when the name is taken or a subnet clashes.
 */
export function createClusterState(config: ClusterConfig, persistentDir?: string): ClusterState {
  return withClustersLock(() => createUnlocked(config, persistentDir));
}

/**
 * Runs `fn` holding an exclusive lock file beside the clusters folder, so two inits at once never
 * pick the same automatic subnet. A lock older than 60 s is a crashed holder's and is taken over.
 */
function withClustersLock<T>(fn: () => T): T {
  mkdirSync(stateRoot(), { recursive: true, mode: 0o700 });
  const lock = join(stateRoot(), 'clusters.lock');
  const timedOut = () => new ClusterConfigError(lock, 'lock', 'another sifkube is creating a cluster', 'wait for it, or remove the file if no sifkube runs');
  return withLockFile(lock, { staleMs: 60_000, waitMs: 30_000, pollMs: 20, timedOut }, fn);
}

function createUnlocked(config: ClusterConfig, persistentDir?: string): ClusterState {
  const names = clusterNames(config.name);
  if (existsSync(names.stateDir) || lstatExists(names.stateDir)) throw new ClusterExistsError(config.name);
  const others = listClusters();
  const clash = others.find((c) => c.plan.names.id === names.id);
  if (clash) throw new ClusterConfigError('--name', 'name', `${config.name} shares its short id ${names.id} with cluster ${clash.plan.name}`, 'choose another name');
  checkHostPorts(config, others);
  const taken: TakenSubnet[] = [
    ...hostRoutes(),
    ...others.flatMap((c) => [
      { cidr: c.plan.bridge.subnet, what: `cluster ${c.plan.name}'s node subnet ${c.plan.bridge.subnet}` },
      { cidr: c.plan.podSubnet, what: `cluster ${c.plan.name}'s pod subnet ${c.plan.podSubnet}` },
    ]),
  ];
  const plan = planCluster(config, taken);
  mkdirSync(clustersDir(), { recursive: true, mode: 0o700 });
  let persistentDirCreated: boolean | undefined;
  if (persistentDir !== undefined) {
    persistentDirCreated = preparePersistentDir(persistentDir, otherStateDirs(others));
    // To the real path: a node binds the folder there, and the link must lead to that bind inside it.
    symlinkSync(realpathSync(persistentDir), names.stateDir);
  } else {
    mkdirSync(names.stateDir, { mode: 0o700 });
    sh('mount', ['-t', 'tmpfs', '-o', 'mode=0700', `sifkube-${config.name}`, names.stateDir]);
  }
  const state: ClusterState = { stateVersion: STATE_VERSION, createdAt: new Date().toISOString(), phase: 'creating', config, plan, persistentDir, persistentDirCreated };
  writeClusterState(state);
  return state;
}

/**
 * A host port can be mapped by one cluster only (its DNAT rule would shadow the other's), and not
 * while a host process listens on it (the DNAT would take its connections away).
 */
function checkHostPorts(config: ClusterConfig, others: ClusterState[]): void {
  const used = new Map<string, string>();
  for (const c of others) for (const n of c.plan.nodes) for (const p of n.extraPortMappings) used.set(`${p.protocol}/${p.hostPort}`, c.plan.name);
  const listening = { TCP: portsInUse('TCP'), UDP: portsInUse('UDP') };
  config.nodes.forEach((n, i) =>
    n.extraPortMappings.forEach((p, j) => {
      const field = `nodes[${i}].extraPortMappings[${j}].hostPort`;
      const owner = used.get(`${p.protocol}/${p.hostPort}`);
      if (owner) throw new ClusterConfigError('cluster config', field, `host port ${p.protocol}/${p.hostPort} is already mapped by cluster ${owner}`, 'pick another hostPort');
      if (listening[p.protocol].has(p.hostPort)) throw new HostPortInUseError(`${p.protocol}/${p.hostPort}`, field);
    }),
  );
}

/**
 * Takes back a cluster whose --persistent folder this host lost track of (its link in the clusters
 * folder is gone: /var/lib/sifkube wiped, or the folder moved to this host): links it again, stopped.
 */
export function adoptPersistentDir(name: string, dir: string): ClusterState {
  return withClustersLock(() => {
    const names = clusterNames(name);
    if (lstatExists(names.stateDir)) throw new ClusterExistsError(name);
    const owner = isAbsolute(dir) ? stateIn(dir) : undefined;
    if (owner !== name) {
      throw new PersistentDirError(dir, owner ? `holds the state of cluster ${owner}, not ${name}` : 'holds no sifkube cluster state (no readable state.json)', owner ? `pass --name ${owner}` : 'pass the absolute folder that `sifkube init --persistent` was given');
    }
    mkdirSync(clustersDir(), { recursive: true, mode: 0o700 });
    symlinkSync(realpathSync(dir), names.stateDir);
    const state = readClusterState(name);
    Object.assign(state, { persistentDir: dir, phase: 'stopped' });
    writeClusterState(state);
    return state;
  });
}

function otherStateDirs(others: ClusterState[]): Record<string, string> {
  return Object.fromEntries(others.map((c) => [c.plan.name, realPath(c.plan.names.stateDir)]));
}

/** Refuses a bad --persistent folder early (init, before binaries are resolved); changes nothing. */
export function checkNewPersistentDir(dir: string): void {
  checkPersistentDir(dir, otherStateDirs(listClusters()));
}

/** A path with its links resolved; as it is when it cannot be (a persistent folder removed by hand). */
function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes the cluster's folder: unmounts its tmpfs (lazily if busy); of a persistent folder, removes
 * everything sifkube wrote there, and the folder itself unless `keepPersistentDir` (the user made it).
 */
export function removeClusterDir(name: string, keepPersistentDir = false): void {
  const dir = clusterNames(name).stateDir;
  if (!lstatExists(dir)) return;
  const link = lstatSync(dir).isSymbolicLink();
  // Mounts are listed by real path: a persistent folder's own path may hold links too.
  const real = link ? realPath(readlinkSync(dir)) : dir;
  // Mounts under the state folder (node root overlays, a kubelet's bind mounts) go first, deepest first.
  const inside = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === real || m.startsWith(`${real}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of inside) if (!trySh('umount', [m])) sh('umount', ['-l', m]);
  if (link && keepPersistentDir && existsSync(real)) for (const e of readdirSync(real)) rmSync(join(real, e), { recursive: true, force: true });
  else rmSync(real, { recursive: true, force: true });
  if (link) rmSync(dir, { force: true });
}
