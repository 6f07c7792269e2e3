import { SifkubeError } from '../errors.js';

/** A bundle's config.json is missing, unreadable or invalid; the message names the field. */
export class InvalidConfigError extends SifkubeError {
  constructor(file: string, field: string, reason: string) {
    super(`${file}: ${field}: ${reason} (fix the bundle's config.json)`, 10);
  }
}

/** A container ID that runc would refuse too, or one already taken / not known. */
export class InvalidIdError extends SifkubeError {
  constructor(id: string) {
    super(`invalid container ID ${JSON.stringify(id)}: use letters, digits, '.', '_', '+' and '-' (not '.' or '..')`, 11);
  }
}

export class ContainerExistsError extends SifkubeError {
  constructor(id: string, root: string) {
    super(`container ${id} already exists under ${root}: delete it first or choose another ID`, 12);
  }
}

export class ContainerNotFoundError extends SifkubeError {
  constructor(id: string, root: string) {
    super(`container ${id} does not exist under ${root}: check the ID with \`sifkube-oci list\` and the --root`, 13);
  }
}

/** The operation does not fit the container's current status (start of a running one...). */
export class InvalidStatusError extends SifkubeError {
  constructor(id: string, status: string, what: string) {
    super(`container ${id} is ${status}: ${what}`, 14);
  }
}

/** Something the runtime does not implement yet; never ignored silently. */
export class NotSupportedError extends SifkubeError {
  constructor(what: string) {
    super(`not supported yet: ${what}`, 15);
  }
}

/** The native helper failed to set the container up. */
export class ContainerSetupError extends SifkubeError {
  constructor(id: string, message: string) {
    super(`container ${id}: ${message}`, 16);
  }
}

/** A lifecycle hook exited non-zero, could not run, or ran past its timeout. */
export class HookError extends SifkubeError {
  constructor(kind: string, path: string, reason: string) {
    super(`${kind} hook ${path} ${reason}: fix the hook or its entry in config.json`, 17);
  }
}

/** Bad runtime input other than config.json: a process.json, a signal name, a resources file. */
export class InvalidInputError extends SifkubeError {
  constructor(message: string) {
    super(message, 18);
  }
}
