export { CgroupManager } from './manager.js';
export { detectLayout } from './layout.js';
export { deviceFilterProgram, normalizeDeviceRules, emulate, v1RuleString, type DeviceRule } from './devices.js';
export { sharesToWeight, blkioWeightToIoWeight, swapToV2 } from './convert.js';
export { CgroupConfigError, CgroupOperationError, CgroupUnsupportedError } from './errors.js';
export type { CgroupDirs, CgroupLayout, CgroupStats, LinuxResources, LinuxDeviceCgroup, LinuxMemory, LinuxCPU, LinuxBlockIO, OomEvents } from './types.js';
