import type { CriConfig } from '../config.js';
import type { Logger } from '../log.js';
import { ImageService } from '../images/service.js';
import { ContainerService } from './containers.js';
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
  return { config, log, sandboxes: new SandboxService(config, log), containers: new ContainerService(log), images: new ImageService(config, log) };
}
