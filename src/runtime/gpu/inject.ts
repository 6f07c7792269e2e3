import type { Device, Mount, Spec } from '../spec/types.js';
import type { Gpu, GpuHost, GpuInjection } from './types.js';

/** Options of a read-only bind of a driver file: no device nodes or set-uid programs through it. */
export const DRIVER_FILE_OPTIONS = ['bind', 'ro', 'nosuid', 'nodev'];

/**
 * What a container needs to use `gpus`: their device nodes and the driver's shared ones, the
 * driver's files (read-only) and NVIDIA_VISIBLE_DEVICES naming the GPUs (UUIDs where known), as
 * the NVIDIA container toolkit sets it. No other GPU's node is in it.
 */
export function gpuInjection(host: GpuHost, gpus: Gpu[]): GpuInjection {
  return {
    devices: [...host.controlDevices, ...gpus.map((g) => g.device)],
    files: host.driverFiles,
    env: { NVIDIA_VISIBLE_DEVICES: gpus.map((g) => g.uuid ?? String(g.index)).join(',') },
  };
}

/**
 * The runtime spec with the injection applied: the device nodes made in the container's /dev, the
 * device cgroup allowing them (and, where the spec had no device rules, denying every other device
 * but the standard ones), the driver files bound read-only, the environment set.
 */
export function injectIntoSpec(spec: Spec, inj: GpuInjection): Spec {
  const out = structuredClone(spec);
  const linux = (out.linux ??= {});
  const paths = new Set(inj.devices.map((d) => d.path));
  const devices: Device[] = inj.devices.map((d) => ({ type: 'c', path: d.path, major: d.major, minor: d.minor, fileMode: 0o666, uid: 0, gid: 0 }));
  linux.devices = [...(linux.devices ?? []).filter((d) => !paths.has(d.path)), ...devices];
  const resources = (linux.resources ??= {});
  const rules = (resources.devices as Record<string, unknown>[] | undefined) ?? [];
  resources.devices = [...(rules.length > 0 ? rules : [{ allow: false, access: 'rwm' }]), ...inj.devices.map((d) => ({ allow: true, type: 'c', major: d.major, minor: d.minor, access: 'rw' }))];
  const files = new Set(inj.files.map((f) => f.path));
  const mounts: Mount[] = inj.files.map((f) => ({ destination: f.path, type: 'bind', source: f.hostPath, options: DRIVER_FILE_OPTIONS }));
  out.mounts = [...(out.mounts ?? []).filter((m) => !files.has(m.destination)), ...mounts];
  if (out.process) {
    const keys = new Set(Object.keys(inj.env));
    out.process.env = [...(out.process.env ?? []).filter((e) => !keys.has(e.split('=')[0])), ...Object.entries(inj.env).map(([k, v]) => `${k}=${v}`)];
  }
  return out;
}
