export { runHostChecks, kernelRelease, cgroupLayout, findExecutable, CNI_BIN_DIRS } from './doctor.js';
export type { HostCheck } from './doctor.js';
