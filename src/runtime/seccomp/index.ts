export { compileSeccomp } from './compile.js';
export { runtimeDefaultSeccomp, DEFAULT_PROFILE_TEMPLATE } from './default-profile.js';
export { SeccompProfileError, SeccompUnsupportedError } from './errors.js';
export { SYSCALLS_X86_64, SYSCALLS_X32, SYSCALLS_I386 } from './syscall-tables.js';
export type { CompiledSeccomp, LinuxSeccomp, LinuxSyscall, LinuxSeccompArg } from './types.js';
