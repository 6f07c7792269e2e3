import type { Duplex } from 'node:stream';
import { forwardInNetns } from '../../runtime/index.js';
import type { SessionIO, StreamingBackend } from '../streaming/index.js';
import type { SandboxService } from '../services/sandboxes.js';
import type { ContainerService } from './service.js';

/** What the streaming server runs for `kubectl exec` and `kubectl port-forward` on sifkube's pods. */
export class CriStreamingBackend implements StreamingBackend {
  constructor(
    private readonly containers: ContainerService,
    private readonly sandboxes: SandboxService,
  ) {}

  exec(containerId: string, cmd: string[], io: SessionIO): Promise<number> {
    return this.containers.execStreams(containerId, cmd, io);
  }

  attach(containerId: string, io: SessionIO): Promise<void> {
    return this.containers.attach(containerId, io);
  }

  /** Port-forward reaches 127.0.0.1:PORT inside the pod's network namespace. */
  portForward(podSandboxId: string, port: number, stream: Duplex, signal: AbortSignal): Promise<void> {
    const s = this.sandboxes.get(podSandboxId);
    // A host-network pod has this server's own network namespace (in a node: the node's, which need
    // not be that of the /proc/1 this server sees).
    return forwardInNetns(s.netnsPath ?? '/proc/self/ns/net', port, stream, signal);
  }
}
