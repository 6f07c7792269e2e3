import { UnimplementedError } from '../errors.js';
import type { CriServices } from '../services/index.js';
import { requireMessage, requireString } from '../validate.js';
import type { MethodGroup } from './handlers.js';

const STREAMING = 'the streaming server (branch streaming) is not merged into this build yet';

/** CreateContainer … ExecSync, Exec, Attach, PortForward. */
export function containerMethods(svc: CriServices): MethodGroup {
  return {
    unary: {
      CreateContainer: (req: { podSandboxId: string; config: { metadata: { name: string } | null; image: { image: string } | null } | null }) => {
        const sandbox = svc.sandboxes.get(requireString(req.podSandboxId, 'pod_sandbox_id'));
        const config = requireMessage(req.config, 'config');
        requireString(requireMessage(config.metadata, 'config.metadata').name, 'config.metadata.name');
        requireString(requireMessage(config.image, 'config.image').image, 'config.image.image');
        return svc.containers.create(sandbox);
      },
      StartContainer: (req: { containerId: string }) => svc.containers.get(requireString(req.containerId, 'container_id')) && {},
      StopContainer: (req: { containerId: string }) => svc.containers.get(requireString(req.containerId, 'container_id')) && {},
      // Removing a container that is not there succeeds: the call is idempotent.
      RemoveContainer: (req: { containerId: string }) => (requireString(req.containerId, 'container_id'), {}),
      ListContainers: () => ({ containers: [] }),
      ContainerStatus: (req: { containerId: string }) => svc.containers.get(requireString(req.containerId, 'container_id')) && {},
      UpdateContainerResources: (req: { containerId: string }) => svc.containers.get(requireString(req.containerId, 'container_id')) && {},
      ReopenContainerLog: (req: { containerId: string }) => svc.containers.get(requireString(req.containerId, 'container_id')) && {},
      ExecSync: (req: { containerId: string }) => svc.containers.get(requireString(req.containerId, 'container_id')) && {},
      Exec: () => {
        throw new UnimplementedError(`not supported yet: Exec: ${STREAMING}`);
      },
      Attach: () => {
        throw new UnimplementedError(`not supported yet: Attach: ${STREAMING}`);
      },
      PortForward: () => {
        throw new UnimplementedError(`not supported yet: PortForward: ${STREAMING}`);
      },
    },
    streaming: {
      StreamContainers: async () => {},
    },
  };
}
