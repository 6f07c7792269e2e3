import type { Logger } from '../log.js';
import { NotFoundError, UnimplementedError } from '../errors.js';
import type { Sandbox } from './sandboxes.js';

/** A container as sifkube keeps it. Containers need the OCI runtime library, which is not merged yet. */
export interface ContainerRecord {
  id: string;
  sandboxId: string;
  imageId: string;
}

const NEEDS_RUNTIME = 'containers need sifkube\'s OCI runtime library (branch runtime), which this build does not have yet';

/**
 * The container side of the CRI. Until the runtime library lands no container can be created, so
 * every lookup answers NOT_FOUND truthfully and CreateContainer says why it cannot.
 */
export class ContainerService {
  private readonly containers = new Map<string, ContainerRecord>();

  constructor(private readonly log: Logger) {}

  list(): ContainerRecord[] {
    return [...this.containers.values()];
  }

  get(id: string): ContainerRecord {
    const c = this.containers.get(id);
    if (!c) throw new NotFoundError(`container ${id} not found: list them with ListContainers`);
    return c;
  }

  create(sandbox: Sandbox): never {
    this.log.debug(`CreateContainer refused in sandbox ${sandbox.id.slice(0, 12)}`);
    throw new UnimplementedError(`not supported yet: CreateContainer: ${NEEDS_RUNTIME}`);
  }

  /** The containers created from an image (RemoveImage refuses an image in use). */
  usingImage(imageId: string): string[] {
    return this.list().filter((c) => c.imageId === imageId).map((c) => c.id);
  }

  /** No container can run yet, so a sandbox has none to stop. */
  async stopAll(_sandbox: Sandbox): Promise<void> {}

  async removeAll(sandbox: Sandbox): Promise<void> {
    for (const c of this.list().filter((c) => c.sandboxId === sandbox.id)) this.containers.delete(c.id);
  }
}
