import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { GpuDeviceNode } from './types.js';

/** The driver's shared device nodes, in the order nvidia-container-toolkit lists them. */
export const CONTROL_DEVICES = ['nvidiactl', 'nvidia-uvm', 'nvidia-uvm-tools', 'nvidia-modeset'];

/** The character device at ROOT/dev/NAME as a GpuDeviceNode; undefined where there is none. */
function charDevice(root: string, name: string): GpuDeviceNode | undefined {
  const hostPath = join(root, 'dev', name);
  let rdev: bigint;
  try {
    const st = statSync(hostPath, { bigint: true });
    if (!st.isCharacterDevice()) return undefined;
    rdev = st.rdev;
  } catch {
    return undefined;
  }
  // glibc's gnu_dev_major/gnu_dev_minor split of a 64-bit dev_t.
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { path: `/dev/${name}`, hostPath, major, minor };
}

/** /dev/nvidiaN under ROOT, by N, and the control devices present. */
export function nvidiaDevices(root: string): { gpus: GpuDeviceNode[]; control: GpuDeviceNode[] } {
  let names: string[];
  try {
    names = readdirSync(join(root, 'dev'));
  } catch {
    names = [];
  }
  const gpus = names
    .filter((n) => /^nvidia\d+$/.test(n))
    .map((n) => charDevice(root, n))
    .filter((d): d is GpuDeviceNode => d !== undefined)
    .sort((a, b) => a.minor - b.minor);
  const control = CONTROL_DEVICES.map((n) => charDevice(root, n)).filter((d): d is GpuDeviceNode => d !== undefined);
  return { gpus, control };
}
