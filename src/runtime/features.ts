import { CAPABILITIES } from './spec/constants.js';
import { HOOK_KINDS, NAMESPACE_TYPES } from './spec/types.js';
import { runtimeBoundingSet } from './capabilities.js';

/** The runtime-spec "features" document: what this runtime implements on this host. */
export function features(): Record<string, unknown> {
  const own = runtimeBoundingSet();
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.2.0',
    hooks: [...HOOK_KINDS],
    mountOptions: [
      'async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'lazytime', 'loud', 'mand', 'noatime',
      'nodev', 'nodiratime', 'noexec', 'nolazytime', 'nomand', 'norelatime', 'nostrictatime', 'nosuid', 'nosymfollow',
      'private', 'rbind', 'relatime', 'remount', 'ro', 'rprivate', 'rshared', 'rslave', 'runbindable', 'rw', 'shared',
      'silent', 'slave', 'strictatime', 'suid', 'symfollow', 'sync', 'unbindable',
    ],
    linux: {
      namespaces: [...NAMESPACE_TYPES],
      capabilities: CAPABILITIES.filter((_, i) => own & (1n << BigInt(i))),
      cgroup: { v1: false, v2: false, systemd: false, systemdUser: false, rdma: false },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: { 'org.opencontainers.runtime-spec.features.runtime': 'sifkube-oci' },
  };
}
