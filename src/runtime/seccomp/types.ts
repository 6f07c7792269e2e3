/** OCI runtime-spec `linux.seccomp` (config-linux.md#seccomp), as found in config.json. */
export interface LinuxSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: LinuxSyscall[];
}

export interface LinuxSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: LinuxSeccompArg[];
}

export interface LinuxSeccompArg {
  index: number;
  value: number | bigint;
  valueTwo?: number | bigint;
  op: string;
}

/** A compiled filter: the struct sock_filter array and the seccomp(2) flags to load it with. */
export interface CompiledSeccomp {
  /** struct sock_filter[] (8 bytes each, host byte order), ready for seccomp_load(). */
  program: Buffer;
  /** SECCOMP_FILTER_FLAG_* bits for seccomp(SECCOMP_SET_MODE_FILTER). */
  flags: number;
  /** Syscall names the profile named that no requested architecture knows (skipped, like runc). */
  skipped: string[];
}
