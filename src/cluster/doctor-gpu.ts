import { DEFAULT_GPU_ROOT, discoverGpus, type GpuHost } from '../runtime/index.js';
import type { HostCheck } from './doctor.js';

const NO_DRIVER = 'only GPU passthrough (init --gpu, --nv) needs it: install the NVIDIA driver (nvidia-driver, or the vendor .run installer)';

/**
 * The `doctor` rows of GPU passthrough, from the runtime's discovery under `root`: the NVIDIA device
 * nodes, the driver version, each GPU, the driver's files. A host without a GPU says "none" on each
 * (optional: nothing but GPU passthrough needs them).
 */
export function gpuChecks(root: string = DEFAULT_GPU_ROOT): HostCheck[] {
  let host: GpuHost;
  try {
    host = discoverGpus(root);
  } catch (err) {
    return [{ name: 'NVIDIA devices', status: 'optional', detail: (err as Error).message, fix: NO_DRIVER }];
  }
  const row = (name: string, items: string[]): HostCheck =>
    items.length > 0 ? { name, status: 'ok', detail: items.join(', ') } : { name, status: 'optional', detail: 'none', fix: NO_DRIVER };
  const under = root === '/' ? '' : ` (under ${host.root})`;
  return [
    row('NVIDIA devices', [...host.gpus.map((g) => g.device.path), ...host.controlDevices.map((d) => d.path)].map((p) => `${p}${under}`)),
    row('NVIDIA driver version', host.driverVersion ? [host.driverVersion] : []),
    row('GPUs', host.gpus.map((g) => [`${g.index}`, g.model, g.uuid, g.pci].filter(Boolean).join(' '))),
    row('NVIDIA driver files', host.driverFiles.length > 0 ? [`${host.driverFiles.length} (${host.driverFiles.map((f) => f.path.split('/').pop()).join(' ')})`] : []),
  ];
}
