import { GpuRequestError } from './errors.js';
import type { Gpu, GpuHost } from './types.js';

/** Every GPU of the host as a request can name it: "all", its index, or its UUID. */
function describe(host: GpuHost): string {
  return host.gpus.map((g) => (g.uuid ? `${g.index} (${g.uuid})` : String(g.index))).join(', ');
}

/**
 * The GPUs a request names, each once, in the host's order: "all", an index (the N of /dev/nvidiaN)
 * or a UUID (GPU-…). A name that matches no GPU is an error naming it and the GPUs there are.
 */
export function selectGpus(host: GpuHost, requests: string[]): Gpu[] {
  const chosen = new Set<Gpu>();
  for (const request of requests) {
    if (host.gpus.length === 0) throw new GpuRequestError(request, `this host has no NVIDIA GPU (no ${host.root.replace(/\/$/, '')}/dev/nvidia[0-9]*): run it on a GPU host, or give the root of a driver tree`);
    if (request === 'all') {
      for (const g of host.gpus) chosen.add(g);
      continue;
    }
    const gpu = /^\d+$/.test(request) ? host.gpus.find((g) => g.index === Number(request)) : host.gpus.find((g) => g.uuid === request);
    if (!gpu) throw new GpuRequestError(request, `no such GPU on this host (it has ${describe(host)}): name one by index or UUID, or ask for "all"`);
    chosen.add(gpu);
  }
  return host.gpus.filter((g) => chosen.has(g));
}
