import { CgroupConfigError } from './errors.js';

/** cpu.shares (2..262144) -> cpu.weight (1..10000), as runc and the kernel documentation map them. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio.weight (10..1000) -> io.weight (1..10000), runc's ConvertBlkIOToIOWeightValue. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * OCI memory.swap is memory+swap (v1 memsw); v2 memory.swap.max is swap alone. Returns the
 * memory.swap.max value (-1 for max, 0 for unset), runc's ConvertMemorySwapToCgroupV2Value.
 */
export function swapToV2(swap: number, limit: number): number {
  if (limit === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (limit === 0 || limit === -1) throw new CgroupConfigError('linux.resources.memory.swap', `is ${swap} without a memory limit`, 'set linux.resources.memory.limit as well');
  if (limit < 0) throw new CgroupConfigError('linux.resources.memory.limit', `is ${limit}`, 'use a positive number of bytes or -1 for unlimited');
  if (swap < limit) throw new CgroupConfigError('linux.resources.memory.swap', `(${swap}) is below memory.limit (${limit})`, 'OCI swap is memory plus swap: make it at least the memory limit');
  return swap - limit;
}
