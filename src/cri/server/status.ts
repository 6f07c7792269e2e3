import type { CriServices } from '../services/index.js';
import type { MethodGroup } from './handlers.js';

/** Status: RuntimeReady always (the server answers), NetworkReady from the presence of a CNI configuration. */
export function statusMethods(svc: CriServices): MethodGroup {
  return {
    unary: {
      Status: (req: { verbose: boolean }) => {
        const { network, problem } = svc.sandboxes.networkStatus();
        const conditions = [
          { type: 'RuntimeReady', status: true, reason: '', message: '' },
          network
            ? { type: 'NetworkReady', status: true, reason: '', message: '' }
            : { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: `Network plugin returns error: cni plugin not initialized: ${problem}` },
        ];
        const info: Record<string, string> = {};
        if (req.verbose) {
          info.config = JSON.stringify(svc.config);
          if (network) info.cniConfig = JSON.stringify(network);
        }
        return {
          status: { conditions },
          info,
          runtimeHandlers: [{ name: '', features: { recursiveReadOnlyMounts: false, userNamespaces: false } }],
          features: { supplementalGroupsPolicy: false, userNamespacesHostNetwork: false },
        };
      },
    },
  };
}
