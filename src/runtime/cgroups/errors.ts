import { SifkubeError } from '../../errors.js';

/** The config asks for a cgroup feature this host does not have. */
export class CgroupUnsupportedError extends SifkubeError {
  constructor(field: string, why: string, fix: string) {
    super(`${field}: ${why}: ${fix}`, 42);
  }
}

/** A value in `linux.resources` or `cgroupsPath` that cannot be applied as written. */
export class CgroupConfigError extends SifkubeError {
  constructor(field: string, problem: string, fix: string) {
    super(`${field} ${problem}: ${fix}`, 43);
  }
}

/** The kernel refused a cgroup operation (write, mkdir, rmdir, freeze) for a reason outside the config. */
export class CgroupOperationError extends SifkubeError {
  constructor(what: string, cause: unknown, fix = 'check that this runs as root and the cgroup still exists') {
    super(`${what}: ${cause instanceof Error ? cause.message : String(cause)}: ${fix}`, 44, { cause });
  }
}
