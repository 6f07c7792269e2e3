import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the driver tells of one GPU: /proc/driver/nvidia/gpus/BUS/information, or `nvidia-smi -L`. */
export interface GpuInfo {
  minor?: number;
  index?: number;
  uuid?: string;
  pci?: string;
  model?: string;
}

/** The loaded kernel module's version, from ROOT/proc/driver/nvidia/version ("… Kernel Module  535.104.05 …"). */
export function driverVersion(root: string): string | undefined {
  try {
    const text = readFileSync(join(root, 'proc/driver/nvidia/version'), 'utf8');
    return /Kernel Module(?:\s+for\s+\S+)?\s+(\d+(?:\.\d+)+)/.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

/** Each GPU's `information` file under ROOT/proc/driver/nvidia/gpus/ ("Key:   value" lines). */
export function procGpuInfo(root: string): GpuInfo[] {
  const dir = join(root, 'proc/driver/nvidia/gpus');
  let buses: string[];
  try {
    buses = readdirSync(dir);
  } catch {
    return [];
  }
  return buses.flatMap((bus) => {
    let text: string;
    try {
      text = readFileSync(join(dir, bus, 'information'), 'utf8');
    } catch {
      return [];
    }
    const field = (key: string) => new RegExp(`^${key}:\\s*(.+?)\\s*$`, 'm').exec(text)?.[1];
    const minor = field('Device Minor');
    return [{ minor: minor === undefined ? undefined : Number(minor), uuid: field('GPU UUID'), pci: field('Bus Location') ?? bus, model: field('Model') }];
  });
}

/** Folders a program is looked up in: $PATH (or the usual one); absolute ones only. */
function programDirs(): string[] {
  const path = process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  return [...new Set(path.split(':').filter((d) => d.startsWith('/')))];
}

/** The first PATH folder that holds NAME under ROOT, as the path inside ROOT. */
export function findProgram(root: string, name: string): string | undefined {
  const dir = programDirs().find((d) => existsSync(join(root, d, name)));
  return dir === undefined ? undefined : join(dir, name);
}

/** `nvidia-smi -L` ("GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-…)"), run from under ROOT; empty where it is missing or fails. */
export function nvidiaSmiList(root: string): GpuInfo[] {
  const smi = findProgram(root, 'nvidia-smi');
  if (smi === undefined) return [];
  let out: string;
  try {
    out = execFileSync(join(root, smi), ['-L'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return [];
  }
  return out.split('\n').flatMap((line) => {
    const m = /^GPU (\d+): (.+?) \(UUID: ([^)]+)\)/.exec(line);
    return m ? [{ index: Number(m[1]), model: m[2], uuid: m[3] }] : [];
  });
}
