import type { Agent } from '../definition.js';
import type { BootstrapAgent } from './agent.js';
import { debootstrapAgent } from './debootstrap.js';
import { dockerAgent } from './docker.js';
import { localimageAgent } from './localimage.js';
import { scratchAgent } from './scratch.js';

export type { AgentContext, BaseImage, BootstrapAgent } from './agent.js';

export const AGENT_IMPLEMENTATIONS: Record<Agent, BootstrapAgent> = {
  localimage: localimageAgent,
  scratch: scratchAgent,
  docker: dockerAgent,
  oci: dockerAgent,
  debootstrap: debootstrapAgent,
};
