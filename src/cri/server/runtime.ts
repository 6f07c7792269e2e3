import { readFileSync } from 'node:fs';
import { UnimplementedError } from '../errors.js';
import type { CriServices } from '../services/index.js';
import { podCidrV4, writePodNetworkConfig } from '../services/cni-config.js';
import type { MethodGroup } from './handlers.js';

const PKG = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Version, RuntimeConfig, UpdateRuntimeConfig, and the calls sifkube refuses outright. */
export function runtimeMethods(svc: CriServices): MethodGroup {
  return {
    unary: {
      Version: () => ({ version: '0.1.0', runtimeName: 'sifkube', runtimeVersion: PKG.version, runtimeApiVersion: 'v1' }),
      RuntimeConfig: () => ({ linux: { cgroupDriver: 'CGROUPFS' } }),
      UpdateRuntimeConfig: (req: { runtimeConfig: { networkConfig: { podCidr: string } | null } | null }) => {
        const cidr = req.runtimeConfig?.networkConfig?.podCidr ?? '';
        // The kubelet sends an empty CIDR when the node has none; nothing to write then.
        if (cidr === '') return {};
        podCidrV4(cidr);
        if (!svc.config.cni.writeConfig) {
          svc.log.info(`pod CIDR ${cidr} received; the CNI configuration is managed outside the CRI (cni.writeConfig is not set)`);
          return {};
        }
        const file = writePodNetworkConfig(svc.config, cidr);
        svc.log.info(`pod CIDR ${cidr}: wrote ${file}`);
        return {};
      },
      CheckpointContainer: () => {
        throw new UnimplementedError('not supported yet: CheckpointContainer (container checkpointing needs CRIU support in sifkube\'s runtime)');
      },
      UpdatePodSandboxResources: () => {
        throw new UnimplementedError('not supported yet: UpdatePodSandboxResources (pod-level resize)');
      },
      ListMetricDescriptors: () => ({ descriptors: [] }),
      ListPodSandboxMetrics: () => ({ podMetrics: [] }),
    },
  };
}
