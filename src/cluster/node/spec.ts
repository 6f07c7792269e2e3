import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodeLayout } from '../components/layout.js';
import type { ClusterPlan, NodePlan } from '../plan.js';
import { nodeGpuAccess } from './gpu.js';

/** Capability names by number (linux/capability.h), for the host's bounding set. */
const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/**
 * A node is privileged: it gets every capability sifkube itself holds (the host's bounding set; a
 * host root may lack some, CAP_SYS_RESOURCE on the test machine, and asking for more fails).
 */
function hostCapabilities(): string[] {
  const line = readFileSync('/proc/self/status', 'utf8').match(/^CapBnd:\s*([0-9a-f]+)$/m)?.[1] ?? '0';
  const mask = BigInt(`0x${line}`);
  return CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

const bind = (source: string, destination: string, readOnly = false) => ({
  destination,
  type: 'bind',
  source,
  options: ['rbind', readOnly ? 'ro' : 'rw'],
});

/** sifkube's own installation, which the node runs (`sifkube node boot`, the native helpers). */
const SIFKUBE_HOME = fileURLToPath(new URL('../../../..', import.meta.url)).replace(/\/$/, '');

/** The cgroup of the node's own processes (supervisor, kubelet, …), beside the kubelet's kubepods. */
export function nodeProcessCgroup(node: NodePlan): string {
  return `${node.cgroupRoot}/node`;
}

/**
 * The OCI runtime configuration (config.json) of a node container, as DESIGN.md describes a node:
 * its own PID, mount, UTS and IPC namespaces, the network namespace sifkube attached to the bridge,
 * the overlay root, the host's cgroup and /dev trees (the kubelet manages cgroups and devices), the
 * cluster's state folder at the same path, the config's extraMounts, and a GPU node's GPUs (the
 * NVIDIA devices of other nodes denied).
 */
export function nodeSpec(plan: ClusterPlan, node: NodePlan, layout: NodeLayout, rootfs: string, netns: string, args: string[]): Record<string, unknown> {
  const caps = hostCapabilities();
  const gpu = nodeGpuAccess(plan, node);
  const mounts = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'rw'] },
    bind('/sys/fs/cgroup', '/sys/fs/cgroup'),
    bind('/dev', '/dev'),
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] },
    { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755'] },
    // The host root is the node's lower layer, but an installation under /tmp or /run would be hidden
    // by the tmpfs mounts above: bind it in at its own path.
    bind(SIFKUBE_HOME, SIFKUBE_HOME, true),
    // The state folder. A --persistent one is a link on the host to a real path with no link in it,
    // bound at that path: inside the node the link then leads to the bind, never to the overlay's view
    // of the folder from below (where the node's own upper layer is an ELOOP trap, and writes would be
    // copied up into the node instead of reaching the folder).
    bind(realpathSync(plan.names.stateDir), realpathSync(plan.names.stateDir)),
    ...(existsSync('/lib/modules') ? [bind('/lib/modules', '/lib/modules', true)] : []),
    ...node.extraMounts.map((m) => bind(m.hostPath, m.containerPath, m.readOnly)),
    // Last: a driver tree under /tmp or /run is bound over the node's own tmpfs there.
    ...gpu.mounts,
  ];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `SIFKUBE_NODE=${node.name}`, ...gpu.env],
      cwd: '/',
      capabilities: Object.fromEntries(['bounding', 'effective', 'permitted', 'inheritable', 'ambient'].map((k) => [k, caps])),
      noNewPrivileges: false,
    },
    root: { path: rootfs, readonly: false },
    hostname: node.name,
    mounts,
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'ipc' }, { type: 'network', path: netns }],
      cgroupsPath: nodeProcessCgroup(node),
      resources: { devices: [{ allow: true, access: 'rwm' }, ...gpu.deviceRules] },
      // Mounts made inside the node (kubelet, CRI) never propagate back to the host.
      rootfsPropagation: 'rslave',
      maskedPaths: [],
      readonlyPaths: [],
    },
    annotations: { 'io.sifkube.cluster': plan.name, 'io.sifkube.node': node.name, 'io.sifkube.logs': layout.logs },
  };
}

/** Writes the node's OCI bundle (a folder with config.json; the root is the overlay, by absolute path). */
export function writeNodeBundle(layout: NodeLayout, spec: Record<string, unknown>): string {
  const dir = join(layout.dir, 'bundle');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(spec, null, 2)}\n`);
  return dir;
}
