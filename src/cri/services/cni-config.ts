import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { CriConfig } from '../config.js';
import { InvalidArgumentError } from '../errors.js';

const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Checks an IPv4 CIDR the kubelet sent (pod_cidr may list several, comma-separated: the IPv4 one is used). */
export function podCidrV4(podCidr: string): string {
  const v4 = podCidr.split(',').map((c) => c.trim()).find((c) => !c.includes(':'));
  const m = v4 ? CIDR_RE.exec(v4) : null;
  if (!v4 || !m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 30) {
    throw new InvalidArgumentError(`runtime_config.network_config.pod_cidr ${podCidr} is not an IPv4 CIDR such as 10.244.1.0/24`);
  }
  return v4;
}

/**
 * The conflist sifkube writes for a node's pod CIDR: a bridge with the gateway on it and masquerade
 * for traffic leaving the CIDR, host-local addresses (kept under the CRI state folder), portmap for
 * hostPort.
 */
export function podNetworkConflist(config: CriConfig, podCidr: string): Record<string, unknown> {
  const w = config.cni.writeConfig!;
  return {
    cniVersion: '1.0.0',
    name: w.name,
    plugins: [
      {
        type: 'bridge',
        bridge: w.bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: podCidr }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(config.stateDir, 'cni', 'ipam') },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

/** Writes the conflist (atomically) and returns its path. */
export function writePodNetworkConfig(config: CriConfig, podCidr: string): string {
  const dir = config.cni.confDir;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `10-${config.cni.writeConfig!.name}.conflist`);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(podNetworkConflist(config, podCidrV4(podCidr)), null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return file;
}
