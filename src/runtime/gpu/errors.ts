import { SifkubeError } from '../../errors.js';

/** A GPU request names no GPU of the host, or the host has none; the message names the request and the fix. */
export class GpuRequestError extends SifkubeError {
  constructor(
    readonly request: string,
    readonly reason: string,
  ) {
    super(`GPU ${JSON.stringify(request)}: ${reason}`, 20);
  }
}

/** The discovery root is not a folder, or the driver's files cannot be listed. */
export class GpuDiscoveryError extends SifkubeError {
  constructor(what: string, reason: string) {
    super(`${what}: ${reason}`, 21);
  }
}
