import { FailedPreconditionError, InvalidArgumentError } from '../errors.js';
import { StreamingRequestError, type StreamingServer } from '../streaming/index.js';
import type { CriServices } from '../services/index.js';
import type { ContainerConfig, Resources } from '../containers/spec.js';
import type { ContainerRecord } from '../containers/service.js';
import { matchesLabels, nonNegative, requireMessage, requireString } from '../validate.js';
import { containerStatus, containerSummary } from './container-view.js';
import type { MethodGroup, Streaming } from './handlers.js';

/** A streaming request the server refuses is the client's bad input. */
function url(make: () => string): { url: string } {
  try {
    return { url: make() };
  } catch (err) {
    if (err instanceof StreamingRequestError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

interface ContainerFilter {
  id: string;
  state: { state: string } | null;
  podSandboxId: string;
  labelSelector: Record<string, string>;
}

function filtered(svc: CriServices, f: ContainerFilter | null): ContainerRecord[] {
  return svc.containers
    .list()
    .filter((c) => !f?.id || c.id.startsWith(f.id))
    .filter((c) => !f?.podSandboxId || c.sandboxId.startsWith(f.podSandboxId))
    .filter((c) => matchesLabels(c.config.labels, f?.labelSelector))
    .filter((c) => !f?.state || svc.containers.state(c) === f.state.state)
    .sort((a, b) => (BigInt(a.createdAt) < BigInt(b.createdAt) ? -1 : 1));
}

/** The CRI container lifecycle, ExecSync, events; Exec/Attach/PortForward wait for the streaming server. */
export function containerMethods(svc: CriServices, streaming: StreamingServer): MethodGroup {
  const running = (id: string) => {
    const c = svc.containers.get(requireString(id, 'container_id'));
    if (svc.containers.state(c) !== 'CONTAINER_RUNNING') throw new FailedPreconditionError(`container ${c.id.slice(0, 12)} is not running`);
    return c.id;
  };
  const events: Streaming = (_req, send, signal) =>
    new Promise<void>((resolve) => {
      const onEvent = (e: { containerId: string; type: string; createdAt: string; sandboxId: string }) => {
        const c = svc.containers.list().find((x) => x.id === e.containerId);
        const s = svc.sandboxes.find(e.sandboxId);
        send({
          containerId: e.containerId,
          containerEventType: e.type,
          createdAt: e.createdAt,
          podSandboxStatus: s ? { id: s.id, metadata: s.config.metadata, state: s.state, createdAt: s.createdAt, labels: s.config.labels, annotations: s.config.annotations } : null,
          containersStatuses: c ? [containerStatus(svc, c)] : [],
        });
      };
      const end = () => {
        svc.containers.events.off('event', onEvent);
        svc.containers.events.off('close', end);
        resolve();
      };
      svc.containers.events.on('event', onEvent);
      svc.containers.events.on('close', end);
      signal.addEventListener('abort', end);
    });
  return {
    unary: {
      CreateContainer: async (req: { podSandboxId: string; config: ContainerConfig | null }) => {
        const c = await svc.containers.create(requireString(req.podSandboxId, 'pod_sandbox_id'), requireMessage(req.config, 'config'));
        return { containerId: c.id };
      },
      StartContainer: async (req: { containerId: string }) => {
        await svc.containers.start(requireString(req.containerId, 'container_id'));
        return {};
      },
      StopContainer: async (req: { containerId: string; timeout: string }) => {
        await svc.containers.stop(requireString(req.containerId, 'container_id'), nonNegative(req.timeout, 'timeout'));
        return {};
      },
      RemoveContainer: async (req: { containerId: string }) => {
        await svc.containers.remove(requireString(req.containerId, 'container_id'));
        return {};
      },
      ListContainers: (req: { filter: ContainerFilter | null }) => ({ containers: filtered(svc, req.filter).map((c) => containerSummary(svc, c)) }),
      ContainerStatus: (req: { containerId: string; verbose: boolean }) => {
        const c = svc.containers.get(requireString(req.containerId, 'container_id'));
        const info: Record<string, string> = req.verbose ? { info: JSON.stringify({ dir: c.dir, logPid: c.logPid, cgroupsPath: c.cgroupsPath }) } : {};
        return { status: containerStatus(svc, c), info };
      },
      UpdateContainerResources: async (req: { containerId: string; linux: Resources | null }) => {
        await svc.containers.updateResources(requireString(req.containerId, 'container_id'), req.linux);
        return {};
      },
      ReopenContainerLog: async (req: { containerId: string }) => {
        await svc.containers.reopenLog(requireString(req.containerId, 'container_id'));
        return {};
      },
      ExecSync: async (req: { containerId: string; cmd: string[]; timeout: string }) => {
        const r = await svc.containers.execSync(requireString(req.containerId, 'container_id'), req.cmd, nonNegative(req.timeout, 'timeout'));
        return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
      },
      Exec: (req: { containerId: string; cmd: string[]; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }) => {
        const containerId = running(req.containerId);
        return url(() => streaming.getExecUrl({ ...req, containerId }));
      },
      Attach: (req: { containerId: string; stdin: boolean; tty: boolean; stdout: boolean; stderr: boolean }) => {
        const containerId = running(req.containerId);
        const c = svc.containers.get(containerId);
        if (req.stdin && !c.config.stdin) throw new FailedPreconditionError(`container ${c.id.slice(0, 12)} was created without stdin: attach without stdin`);
        return url(() => streaming.getAttachUrl({ ...req, containerId }));
      },
      PortForward: (req: { podSandboxId: string; port: number[] }) => {
        const s = svc.sandboxes.get(requireString(req.podSandboxId, 'pod_sandbox_id'));
        if (s.state !== 'SANDBOX_READY') throw new FailedPreconditionError(`pod sandbox ${s.id.slice(0, 12)} is not ready`);
        return url(() => streaming.getPortForwardUrl({ podSandboxId: s.id, port: req.port }));
      },
    },
    streaming: {
      StreamContainers: async (req: { filter: ContainerFilter | null }, send) => {
        const all = filtered(svc, req.filter).map((c) => containerSummary(svc, c));
        for (let i = 0; i < all.length; i += 500) send({ containers: all.slice(i, i + 500) });
      },
      GetContainerEvents: events,
    },
  };
}
