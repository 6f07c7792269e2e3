import { SifkubeError } from '../../errors.js';

/** A `linux.seccomp` profile that cannot be compiled as written (bad action, op, index, value). */
export class SeccompProfileError extends SifkubeError {
  constructor(field: string, problem: string, fix: string) {
    super(`linux.seccomp: ${field} ${problem}: ${fix}`, 40);
  }
}

/** A valid profile asking for something sifkube does not do yet (user notification). */
export class SeccompUnsupportedError extends SifkubeError {
  constructor(field: string, what: string) {
    super(`linux.seccomp: ${field}: not supported yet: ${what}; remove it from the profile`, 41);
  }
}
