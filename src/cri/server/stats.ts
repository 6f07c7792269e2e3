import type { CriServices } from '../services/index.js';
import { interfaceStats, type InterfaceStats } from '../services/net-stats.js';
import type { Sandbox } from '../services/sandboxes.js';
import { matchesLabels, nowNanos, requireString } from '../validate.js';
import type { MethodGroup } from './handlers.js';

interface StatsFilter {
  id: string;
  labelSelector: Record<string, string>;
}

function iface(i: InterfaceStats) {
  return { name: i.name, rxBytes: { value: i.rxBytes }, rxErrors: { value: i.rxErrors }, txBytes: { value: i.txBytes }, txErrors: { value: i.txErrors } };
}

/** A pod's statistics: what sifkube measures today is its network (containers come with the runtime). */
async function podStats(s: Sandbox) {
  const attributes = { id: s.id, metadata: s.config.metadata, labels: s.config.labels, annotations: s.config.annotations };
  if (!s.netnsPath) return { attributes, linux: { containers: [] } };
  const ifaces = await interfaceStats(s.netnsPath);
  const def = ifaces.find((i) => i.name === 'eth0') ?? ifaces[0];
  return {
    attributes,
    linux: {
      network: { timestamp: nowNanos(), defaultInterface: def ? iface(def) : null, interfaces: ifaces.filter((i) => i !== def).map(iface) },
      containers: [],
    },
  };
}

function sandboxesFor(svc: CriServices, filter: StatsFilter | null): Sandbox[] {
  return svc.sandboxes
    .list()
    .filter((s) => s.state === 'SANDBOX_READY')
    .filter((s) => !filter?.id || s.id.startsWith(filter.id))
    .filter((s) => matchesLabels(s.config.labels, filter?.labelSelector));
}

/** ContainerStats, ListContainerStats, PodSandboxStats, ListPodSandboxStats and their streams. */
export function statsMethods(svc: CriServices): MethodGroup {
  return {
    unary: {
      ContainerStats: (req: { containerId: string }) => svc.containers.get(requireString(req.containerId, 'container_id')) && {},
      ListContainerStats: () => ({ stats: [] }),
      PodSandboxStats: async (req: { podSandboxId: string }) => ({ stats: await podStats(svc.sandboxes.get(requireString(req.podSandboxId, 'pod_sandbox_id'))) }),
      ListPodSandboxStats: async (req: { filter: StatsFilter | null }) => ({ stats: await Promise.all(sandboxesFor(svc, req.filter).map(podStats)) }),
    },
    streaming: {
      StreamContainerStats: async () => {},
      StreamPodSandboxStats: async (req: { filter: StatsFilter | null }, send) => {
        for (const s of sandboxesFor(svc, req.filter)) send({ podSandboxStats: [await podStats(s)] });
      },
    },
  };
}
