import { SifkubeError } from '../../errors.js';

/** CRI ExecRequest fields the streaming server serves (named as @grpc/proto-loader gives them). */
export interface ExecRequest {
  containerId: string;
  cmd: string[];
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** CRI AttachRequest fields. */
export type AttachRequest = Omit<ExecRequest, 'cmd'>;

/** CRI PortForwardRequest fields. */
export interface PortForwardRequest {
  podSandboxId: string;
  /** Named as in the CRI message (repeated int32 port); empty for SPDY clients, which name ports per stream. */
  port: number[];
}

export type StreamingRequest =
  | { kind: 'exec'; request: ExecRequest }
  | { kind: 'attach'; request: AttachRequest }
  | { kind: 'portforward'; request: PortForwardRequest };

/** A CRI Exec/Attach/PortForward request the streaming server cannot serve (gRPC INVALID_ARGUMENT). */
export class StreamingRequestError extends SifkubeError {
  constructor(message: string) {
    super(message, 30);
  }
}

function checkStreams(r: AttachRequest, what: string): void {
  if (!r.containerId) throw new StreamingRequestError(`${what}: missing container_id: name the container to reach`);
  if (r.tty && r.stderr) throw new StreamingRequestError(`${what} for ${r.containerId}: tty and stderr cannot both be set: a terminal merges stderr into stdout, drop stderr`);
  if (!r.stdin && !r.stdout && !r.stderr) throw new StreamingRequestError(`${what} for ${r.containerId}: none of stdin, stdout, stderr is set: ask for at least one`);
}

export function validateExec(r: ExecRequest): void {
  checkStreams(r, 'exec');
  if (r.cmd.length === 0 || !r.cmd[0]) throw new StreamingRequestError(`exec for ${r.containerId}: empty cmd: give the command to run`);
}

export function validateAttach(r: AttachRequest): void {
  checkStreams(r, 'attach');
}

export function validatePortForward(r: PortForwardRequest): void {
  if (!r.podSandboxId) throw new StreamingRequestError('port-forward: missing pod_sandbox_id: name the pod sandbox to reach');
  for (const p of r.port) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new StreamingRequestError(`port-forward to ${r.podSandboxId}: bad port ${p}: ports are 1..65535`);
  }
}
