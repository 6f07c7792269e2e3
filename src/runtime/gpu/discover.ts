import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { nvidiaDevices } from './devices.js';
import { driverFiles } from './driver-files.js';
import { driverVersion, nvidiaSmiList, procGpuInfo } from './driver-info.js';
import { GpuDiscoveryError } from './errors.js';
import type { GpuHost } from './types.js';

/** Where the driver tree is on a GPU host. Another root (a copy, a test tree) is found the same way under it. */
export const DEFAULT_GPU_ROOT = '/';

/**
 * What the host has of the NVIDIA driver, everything under `root` as if it were /: device nodes in
 * ROOT/dev, the driver's version and GPUs in ROOT/proc/driver/nvidia (each GPU's UUID, bus and model;
 * `nvidia-smi -L` from PATH under ROOT where /proc has none), its libraries from ROOT's linker cache
 * (`ldconfig -r ROOT -p`) and its programs from PATH under ROOT. A host without a GPU gives an empty
 * answer, not an error.
 */
export function discoverGpus(root: string = DEFAULT_GPU_ROOT): GpuHost {
  const dir = resolve(root);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new GpuDiscoveryError(`GPU root ${root}`, 'is not a folder: give the root of the NVIDIA driver tree (/ on a GPU host)');
  const { gpus: nodes, control } = nvidiaDevices(dir);
  const version = driverVersion(dir);
  const proc = procGpuInfo(dir);
  // nvidia-smi (slow: it loads NVML) only where /proc does not say (a tree without gpus/); it
  // numbers GPUs as the minors go.
  const smi = nodes.some((d) => !proc.some((i) => i.minor === d.minor && i.uuid)) ? nvidiaSmiList(dir) : [];
  const gpus = nodes.map((device) => {
    const p = proc.find((i) => i.minor === device.minor);
    const s = smi.find((i) => (p?.uuid ? i.uuid === p.uuid : i.index === device.minor));
    return { index: device.minor, uuid: p?.uuid ?? s?.uuid, pci: p?.pci, model: p?.model ?? s?.model, device };
  });
  const files = nodes.length > 0 || version !== undefined ? driverFiles(dir) : [];
  return { root: dir, driverVersion: version, gpus, controlDevices: control, driverFiles: files };
}
