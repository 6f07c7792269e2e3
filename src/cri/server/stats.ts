import { join } from 'node:path';
import type { ContainerRecord } from '../containers/service.js';
import { cgroupStats, writableUsage } from '../containers/stats.js';
import type { CriServices } from '../services/index.js';
import { interfaceStats, type InterfaceStats } from '../services/net-stats.js';
import type { Sandbox } from '../services/sandboxes.js';
import { matchesLabels, nowNanos, requireString } from '../validate.js';
import type { MethodGroup } from './handlers.js';

interface StatsFilter {
  id: string;
  podSandboxId?: string;
  labelSelector: Record<string, string>;
}

/** A container's statistics: CPU and memory from its cgroup when it has one, its writable layer always. */
function containerStats(c: ContainerRecord) {
  const ts = nowNanos();
  const cg = cgroupStats(c.cgroupsPath);
  const rw = join(c.dir, 'rw');
  const w = writableUsage(rw);
  return {
    attributes: { id: c.id, metadata: c.config.metadata, labels: c.config.labels, annotations: c.config.annotations },
    cpu: cg.cpuNs !== undefined ? { timestamp: ts, usageCoreNanoSeconds: { value: cg.cpuNs } } : null,
    memory: cg.memUsage !== undefined ? { timestamp: ts, workingSetBytes: { value: cg.workingSet }, usageBytes: { value: cg.memUsage }, rssBytes: { value: cg.rss } } : null,
    writableLayer: { timestamp: ts, fsId: { mountpoint: rw }, usedBytes: { value: w.bytes }, inodesUsed: { value: w.inodes } },
  };
}

function containersFor(svc: CriServices, f: StatsFilter | null): ContainerRecord[] {
  return svc.containers
    .list()
    .filter((c) => svc.containers.state(c) === 'CONTAINER_RUNNING')
    .filter((c) => !f?.id || c.id.startsWith(f.id))
    .filter((c) => !f?.podSandboxId || c.sandboxId.startsWith(f.podSandboxId))
    .filter((c) => matchesLabels(c.config.labels, f?.labelSelector));
}

function iface(i: InterfaceStats) {
  return { name: i.name, rxBytes: { value: i.rxBytes }, rxErrors: { value: i.rxErrors }, txBytes: { value: i.txBytes }, txErrors: { value: i.txErrors } };
}

/** A pod's statistics: its network, and its running containers. */
async function podStats(svc: CriServices, s: Sandbox) {
  const attributes = { id: s.id, metadata: s.config.metadata, labels: s.config.labels, annotations: s.config.annotations };
  const containers = containersFor(svc, { id: '', podSandboxId: s.id, labelSelector: {} }).map((c) => containerStats(c));
  if (!s.netnsPath) return { attributes, linux: { containers } };
  const ifaces = await interfaceStats(s.netnsPath);
  const def = ifaces.find((i) => i.name === 'eth0') ?? ifaces[0];
  return {
    attributes,
    linux: {
      network: { timestamp: nowNanos(), defaultInterface: def ? iface(def) : null, interfaces: ifaces.filter((i) => i !== def).map(iface) },
      containers,
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
      ContainerStats: (req: { containerId: string }) => ({ stats: containerStats(svc.containers.get(requireString(req.containerId, 'container_id'))) }),
      ListContainerStats: (req: { filter: StatsFilter | null }) => ({ stats: containersFor(svc, req.filter).map((c) => containerStats(c)) }),
      PodSandboxStats: async (req: { podSandboxId: string }) => ({ stats: await podStats(svc, svc.sandboxes.get(requireString(req.podSandboxId, 'pod_sandbox_id'))) }),
      ListPodSandboxStats: async (req: { filter: StatsFilter | null }) => ({ stats: await Promise.all(sandboxesFor(svc, req.filter).map((s) => podStats(svc, s))) }),
    },
    streaming: {
      StreamContainerStats: async (req: { filter: StatsFilter | null }, send) => {
        const all = containersFor(svc, req.filter).map((c) => containerStats(c));
        for (let i = 0; i < all.length; i += 500) send({ containerStats: all.slice(i, i + 500) });
      },
      StreamPodSandboxStats: async (req: { filter: StatsFilter | null }, send) => {
        for (const s of sandboxesFor(svc, req.filter)) send({ podSandboxStats: [await podStats(svc, s)] });
      },
    },
  };
}
