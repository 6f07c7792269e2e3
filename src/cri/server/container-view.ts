import type { ContainerRecord } from '../containers/service.js';
import type { CriServices } from '../services/index.js';

/** The image names a container reports, as containerd reports them: the first tag, the first repo digest. */
function imageNames(svc: CriServices, c: ContainerRecord) {
  const img = svc.images.store.byId(c.imageId);
  return { image: { image: img?.repoTags[0] ?? c.imageId, annotations: {} }, imageRef: img?.repoDigests[0] ?? c.imageId, imageId: c.imageId };
}

export function containerSummary(svc: CriServices, c: ContainerRecord) {
  const { image, imageRef, imageId } = imageNames(svc, c);
  return {
    id: c.id,
    podSandboxId: c.sandboxId,
    metadata: c.config.metadata,
    image,
    imageRef,
    imageId,
    state: svc.containers.state(c),
    createdAt: c.createdAt,
    labels: c.config.labels,
    annotations: c.config.annotations,
  };
}

export function containerStatus(svc: CriServices, c: ContainerRecord) {
  const { image, imageRef, imageId } = imageNames(svc, c);
  const state = svc.containers.state(c);
  return {
    id: c.id,
    metadata: c.config.metadata,
    state,
    createdAt: c.createdAt,
    startedAt: c.startedAt ?? '0',
    finishedAt: c.finishedAt ?? '0',
    exitCode: c.exitCode ?? 0,
    image,
    imageRef,
    imageId,
    reason: c.reason ?? '',
    message: c.message ?? '',
    labels: c.config.labels,
    annotations: c.config.annotations,
    mounts: c.config.mounts,
    logPath: c.logPath,
    resources: c.config.linux?.resources ? { linux: c.config.linux.resources } : null,
    user: { linux: { uid: String(c.uid), gid: String(c.gid), supplementalGroups: c.additionalGids.map(String) } },
    stopSignal: c.config.stopSignal || 'RUNTIME_DEFAULT',
  };
}
