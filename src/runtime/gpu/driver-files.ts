import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { secureJoin } from '../secure-join.js';
import { findProgram } from './driver-info.js';
import { GpuDiscoveryError } from './errors.js';
import type { DriverFile } from './types.js';

/**
 * The driver's user-space libraries a CUDA (compute and utility) container needs, by name before
 * ".so": nvidia-container-toolkit's compute and utility sets, plus the video and graphics ones it
 * mounts for those capabilities. Missing ones are skipped: drivers differ in what they ship.
 */
export const DRIVER_LIBRARIES = [
  'libcuda', 'libcudadebugger', 'libnvidia-ml', 'libnvidia-ptxjitcompiler', 'libnvidia-fatbinaryloader', 'libnvidia-nvvm',
  'libnvidia-compiler', 'libnvidia-opencl', 'libnvidia-allocator', 'libnvidia-cfg', 'libnvidia-gpucomp', 'libnvidia-pkcs11',
  'libnvidia-pkcs11-openssl3', 'libnvidia-opticalflow', 'libnvcuvid', 'libnvidia-encode', 'libnvidia-eglcore', 'libnvidia-glcore',
  'libnvidia-tls', 'libnvidia-glsi', 'libnvidia-fbc', 'libnvidia-ifr', 'libnvidia-rtcore', 'libnvoptix', 'libGLX_nvidia',
  'libEGL_nvidia', 'libGLESv2_nvidia', 'libGLESv1_CM_nvidia', 'libnvidia-glvkspirv', 'libnvidia-cbl',
];

/** The driver's programs, found in PATH under the root. */
export const DRIVER_PROGRAMS = ['nvidia-smi', 'nvidia-debugdump', 'nvidia-persistenced', 'nvidia-cuda-mps-control', 'nvidia-cuda-mps-server'];

/** The linker cache's word for this machine's libraries (`ldconfig -p`: "(libc6,x86-64)"). */
const ARCH_TAG: Record<string, string> = { x64: 'x86-64', arm64: 'AArch64', ppc64: 'ppc64' };

/** `ldconfig -p` lines as [soname, path], of this machine's architecture. */
export function linkerCache(root: string): [string, string][] {
  let out: string;
  try {
    // -r ROOT: the cache of ROOT/etc/ld.so.cache, its paths as inside ROOT.
    out = execFileSync('ldconfig', [...(root === '/' ? [] : ['-r', root]), '-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const msg = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new GpuDiscoveryError(`ldconfig ${root === '/' ? '' : `-r ${root} `}-p`, `cannot list the linker cache (${msg}): install libc-bin, or give the driver tree an etc/ld.so.cache (ldconfig -r ROOT)`);
  }
  const tag = ARCH_TAG[process.arch];
  return out.split('\n').flatMap((line) => {
    const m = /^\s+(\S+) \(([^)]*)\) => (\/\S+)$/.exec(line);
    if (!m || (tag !== undefined && !m[2].split(',').includes(tag))) return [];
    return [[m[1], m[3]] as [string, string]];
  });
}

/** The driver's files under ROOT: its libraries the linker cache names and its programs in PATH. */
export function driverFiles(root: string): DriverFile[] {
  const wanted = new Set(DRIVER_LIBRARIES);
  const paths = linkerCache(root)
    .filter(([soname]) => wanted.has(soname.replace(/\.so(\..*)?$/, '')))
    .map(([, path]) => path);
  const programs = DRIVER_PROGRAMS.map((p) => findProgram(root, p)).filter((p): p is string => p !== undefined);
  // A link is followed inside ROOT: the file a container gets is the one the link names there.
  return [...new Set([...paths, ...programs])].map((path) => ({ path, hostPath: secureJoin(root, path) })).filter((f) => existsSync(f.hostPath));
}
