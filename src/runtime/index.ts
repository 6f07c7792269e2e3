/** The OCI runtime as a library (the CRI calls it in-process); `cli/main.ts` is its runc-like CLI. */
export { createContainer, type CreateOptions, type Created } from './create.js';
export { startContainer } from './start.js';
export { containerState, listContainers, type ContainerState } from './query.js';
export { killContainer } from './kill.js';
export { deleteContainer } from './delete.js';
export { runContainer } from './run.js';
export { execInContainer, type ExecOptions, type Executed } from './exec.js';
export { containerPids, psTable } from './ps.js';
export { features } from './features.js';
export { parseSignal } from './processes.js';
export { loadConfig, validateSpec, validateProcess } from './spec/validate.js';
export { DEFAULT_ROOT, readExit, type ExitStatus, type Status } from './state.js';
export { setLogSink, type LogSink } from './log.js';
export type { Spec, Process, Mount, Hook, Namespace } from './spec/types.js';
export * from './errors.js';
export { HELPER_PATH, helperPath, HelperMissingError } from './native.js';
export { pauseContainer, resumeContainer, updateContainer } from './cgroup-ops.js';
export { containerSpec } from './query.js';
