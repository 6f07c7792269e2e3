import type { CriConfig } from '../config.js';
import { ContainerService } from '../containers/service.js';
import { ImageService } from '../images/service.js';
import type { Logger } from '../log.js';
import { SandboxService } from './sandboxes.js';

/** Everything the gRPC adapters call; built once per server. */
export interface CriServices {
  config: CriConfig;
  log: Logger;
  sandboxes: SandboxService;
  containers: ContainerService;
  images: ImageService;
}

export function createServices(config: CriConfig, log: Logger): CriServices {
  const sandboxes = new SandboxService(config, log);
  const images = new ImageService(config, log);
  return { config, log, sandboxes, images, containers: new ContainerService(config, log, sandboxes, images) };
}
