/** GPU passthrough: finding the NVIDIA driver on the host and the one description of what a container needs of it. */
export type { Gpu, GpuDeviceNode, GpuHost, GpuInjection, DriverFile } from './types.js';
export { DEFAULT_GPU_ROOT, discoverGpus } from './discover.js';
export { selectGpus } from './select.js';
export { gpuInjection, injectIntoSpec, DRIVER_FILE_OPTIONS } from './inject.js';
export { DRIVER_LIBRARIES, DRIVER_PROGRAMS } from './driver-files.js';
export { GpuDiscoveryError, GpuRequestError } from './errors.js';

import { discoverGpus } from './discover.js';
import { gpuInjection, injectIntoSpec } from './inject.js';
import { selectGpus } from './select.js';
import type { Spec } from '../spec/types.js';

/** A request for GPUs (`--nv`, `--gpus`): which ones, and the root of the driver tree they are found under. */
export interface GpuRequest {
  gpus: string[];
  root?: string;
}

/** `spec` with the GPUs the request names, as Singularity's --nv adds them. */
export function withGpus(spec: Spec, request: GpuRequest): Spec {
  const host = discoverGpus(request.root);
  return injectIntoSpec(spec, gpuInjection(host, selectGpus(host, request.gpus)));
}
