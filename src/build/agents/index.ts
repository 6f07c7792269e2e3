import type { Agent } from '../definition.js';
import type { BootstrapAgent } from './agent.js';

export type { AgentContext, BaseImage, BootstrapAgent } from './agent.js';

/** An agent's implementation, loaded when a stage uses it (the docker agent brings the registry client). */
export async function loadAgent(agent: Agent): Promise<BootstrapAgent> {
  switch (agent) {
    case 'localimage':
      return (await import('./localimage.js')).localimageAgent;
    case 'scratch':
      return (await import('./scratch.js')).scratchAgent;
    case 'docker':
    case 'oci':
      return (await import('./docker.js')).dockerAgent;
    case 'debootstrap':
      return (await import('./debootstrap.js')).debootstrapAgent;
  }
}
