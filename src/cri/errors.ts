import { status as GrpcStatus } from '@grpc/grpc-js';
import { SifkubeError } from '../errors.js';

/**
 * A CRI request failure: it carries the gRPC status the client gets. The message names the bad field
 * or object and, where there is one, the fix.
 */
export class CriRequestError extends SifkubeError {
  readonly code: GrpcStatus;

  constructor(code: GrpcStatus, message: string, exitCode: number) {
    super(message, exitCode);
    this.code = code;
  }
}

/** A request field is missing or malformed. */
export class InvalidArgumentError extends CriRequestError {
  constructor(message: string) {
    super(GrpcStatus.INVALID_ARGUMENT, message, 65);
  }
}

/** The named sandbox, container or image does not exist. */
export class NotFoundError extends CriRequestError {
  constructor(message: string) {
    super(GrpcStatus.NOT_FOUND, message, 66);
  }
}

/** The object exists but is in a state that forbids the call (an image in use, a name reserved). */
export class FailedPreconditionError extends CriRequestError {
  constructor(message: string) {
    super(GrpcStatus.FAILED_PRECONDITION, message, 67);
  }
}

/** The name is already taken by another object. */
export class AlreadyExistsError extends CriRequestError {
  constructor(message: string) {
    super(GrpcStatus.ALREADY_EXISTS, message, 68);
  }
}

/** The CRI call is part of the API but sifkube does not do it (yet). */
export class UnimplementedError extends CriRequestError {
  constructor(message: string) {
    super(GrpcStatus.UNIMPLEMENTED, message, 69);
  }
}

/** A host operation the request needed failed (a CNI plugin, a mount, a registry). */
export class CriOperationError extends CriRequestError {
  constructor(message: string) {
    super(GrpcStatus.UNKNOWN, message, 70);
  }
}

/** The CRI server's configuration file is unreadable or invalid: a startup error. */
export class CriConfigError extends SifkubeError {
  constructor(message: string) {
    super(message, 71);
  }
}
