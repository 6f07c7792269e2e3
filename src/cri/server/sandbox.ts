import type { CriServices } from '../services/index.js';
import type { Sandbox } from '../services/sandboxes.js';
import type { PodSandboxConfig } from '../types.js';
import { matchesLabels, nowNanos, requireMessage, requireString } from '../validate.js';
import { containerStatus } from './container-view.js';
import type { MethodGroup } from './handlers.js';

interface SandboxFilter {
  id: string;
  state: { state: string } | null;
  labelSelector: Record<string, string>;
}

function summary(s: Sandbox) {
  return {
    id: s.id,
    metadata: s.config.metadata,
    state: s.state,
    createdAt: s.createdAt,
    labels: s.config.labels,
    annotations: s.config.annotations,
    runtimeHandler: s.runtimeHandler,
  };
}

function status(s: Sandbox) {
  const ns = s.config.linux?.securityContext?.namespaceOptions;
  return {
    ...summary(s),
    network: { ip: s.ips[0] ?? '', additionalIps: s.ips.slice(1).map((ip) => ({ ip })) },
    linux: { namespaces: { options: { network: ns?.network ?? 'POD', pid: ns?.pid ?? 'POD', ipc: ns?.ipc ?? 'POD', targetId: ns?.targetId ?? '' } } },
  };
}

function filtered(svc: CriServices, filter: SandboxFilter | null): Sandbox[] {
  return svc.sandboxes
    .list()
    .filter((s) => !filter?.id || s.id.startsWith(filter.id))
    .filter((s) => !filter?.state || s.state === filter.state.state)
    .filter((s) => matchesLabels(s.config.labels, filter?.labelSelector))
    .sort((a, b) => (BigInt(a.createdAt) < BigInt(b.createdAt) ? -1 : 1));
}

/** RunPodSandbox, StopPodSandbox, RemovePodSandbox, PodSandboxStatus, ListPodSandbox, StreamPodSandboxes. */
export function sandboxMethods(svc: CriServices, containers: { stopAll(s: Sandbox): Promise<void>; removeAll(s: Sandbox): Promise<void> }): MethodGroup {
  return {
    unary: {
      RunPodSandbox: async (req: { config: PodSandboxConfig | null; runtimeHandler: string }) => {
        const s = await svc.sandboxes.run(requireMessage(req.config, 'config'), req.runtimeHandler);
        return { podSandboxId: s.id };
      },
      StopPodSandbox: async (req: { podSandboxId: string }) => {
        await svc.sandboxes.stop(requireString(req.podSandboxId, 'pod_sandbox_id'), (s) => containers.stopAll(s));
        return {};
      },
      RemovePodSandbox: async (req: { podSandboxId: string }) => {
        await svc.sandboxes.remove(requireString(req.podSandboxId, 'pod_sandbox_id'), (s) => containers.removeAll(s));
        return {};
      },
      PodSandboxStatus: (req: { podSandboxId: string; verbose: boolean }) => {
        const s = svc.sandboxes.get(requireString(req.podSandboxId, 'pod_sandbox_id'));
        const info: Record<string, string> = {};
        if (req.verbose) {
          info.info = JSON.stringify({ netns: s.netnsPath ?? '', hostNetwork: s.hostNetwork, cniResult: s.cniResult ?? null, config: s.config, podDir: s.dir });
        }
        const containersStatuses = svc.containers.list().filter((c) => c.sandboxId === s.id).map((c) => containerStatus(svc, c));
        return { status: status(s), info, containersStatuses, timestamp: nowNanos() };
      },
      ListPodSandbox: (req: { filter: SandboxFilter | null }) => ({ items: filtered(svc, req.filter).map(summary) }),
    },
    streaming: {
      StreamPodSandboxes: async (req: { filter: SandboxFilter | null }, send) => {
        const items = filtered(svc, req.filter).map(summary);
        // The stream carries lists of at least one item; an empty result is an empty stream.
        for (let i = 0; i < items.length; i += 500) send({ podSandboxes: items.slice(i, i + 500) });
      },
    },
  };
}
