/** A device node of the NVIDIA driver: where the container sees it, where it is on the host, its numbers. */
export interface GpuDeviceNode {
  /** the path inside a container (and on a host whose driver tree is at /): /dev/nvidia0 */
  path: string;
  /** the node on the host: the discovery root joined with `path` */
  hostPath: string;
  major: number;
  minor: number;
}

/** One GPU: its own device node, and what the driver says about it. */
export interface Gpu {
  /** the device minor: nvidia-smi's index and the N of /dev/nvidiaN */
  index: number;
  uuid?: string;
  /** PCI bus address, e.g. 0000:17:00.0 */
  pci?: string;
  model?: string;
  device: GpuDeviceNode;
}

/** A user-space file of the driver (a library from the linker cache, or a program), always given read-only. */
export interface DriverFile {
  /** where it goes in a container: the path the host's linker cache (or PATH) names */
  path: string;
  hostPath: string;
}

/** What the host has of the NVIDIA driver, found under `root`. */
export interface GpuHost {
  root: string;
  /** the driver version (/proc/driver/nvidia/version); undefined: no driver loaded */
  driverVersion?: string;
  gpus: Gpu[];
  /** nvidiactl, nvidia-uvm, nvidia-uvm-tools, nvidia-modeset: every container with a GPU needs those present */
  controlDevices: GpuDeviceNode[];
  driverFiles: DriverFile[];
}

/** "What a GPU needs in a container": the one description every caller (node, pod, --nv) applies. */
export interface GpuInjection {
  devices: GpuDeviceNode[];
  /** bound read-only at `path` */
  files: DriverFile[];
  env: Record<string, string>;
}
