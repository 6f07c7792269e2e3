import type { BootstrapAgent } from './agent.js';

/** `Bootstrap: scratch`: an empty root filesystem; %setup and %files fill it. */
export const scratchAgent: BootstrapAgent = {
  inputs: () => Promise.resolve('scratch'),
  bootstrap: () => Promise.resolve({ labels: {} }),
};
