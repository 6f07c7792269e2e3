import { discoverGpus, gpuInjection, GpuRequestError, selectGpus, type GpuInjection } from '../../runtime/index.js';
import { InvalidArgumentError } from '../errors.js';

/** The CDI kind this server resolves: NVIDIA GPUs, named by index, UUID or `all`. */
export const CDI_GPU_KIND = 'nvidia.com/gpu';

/**
 * What a container's CDI device requests add to it: the runtime's GPU injection for the GPUs they
 * name, found under the server's gpuRoot (of its `gpus` only, where it lists them); undefined when it asks for none. A malformed name, another
 * kind, a GPU the node lacks, or any request on a server without GPUs is INVALID_ARGUMENT naming it.
 */
export function resolveCdiDevices(devices: { name: string }[], gpuRoot: string | undefined, only?: number[]): GpuInjection | undefined {
  if (devices.length === 0) return undefined;
  const requests = devices.map(({ name }, i) => {
    const eq = name.indexOf('=');
    if (eq <= 0 || eq === name.length - 1) throw new InvalidArgumentError(`config.CDI_devices[${i}] ${JSON.stringify(name)} is not a CDI device name: write VENDOR/CLASS=DEVICE, e.g. ${CDI_GPU_KIND}=0`);
    const kind = name.slice(0, eq);
    if (kind !== CDI_GPU_KIND) throw new InvalidArgumentError(`config.CDI_devices[${i}] ${name}: unknown CDI kind ${kind}: this runtime resolves ${CDI_GPU_KIND}=<index|uuid|all> only`);
    return name.slice(eq + 1);
  });
  if (gpuRoot === undefined) throw new InvalidArgumentError(`config.CDI_devices ${devices.map((d) => d.name).join(', ')}: this node has no GPU (its CRI server has no gpuRoot): run the container on a GPU node`);
  const all = discoverGpus(gpuRoot);
  const host = only ? { ...all, gpus: all.gpus.filter((g) => only.includes(g.index)) } : all;
  try {
    return gpuInjection(host, selectGpus(host, requests));
  } catch (err) {
    if (err instanceof GpuRequestError) throw new InvalidArgumentError(`config.CDI_devices: ${CDI_GPU_KIND}=${err.request}: ${err.reason}`);
    throw err;
  }
}
