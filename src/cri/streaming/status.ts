/** metav1.Status as Kubernetes' remote command protocol v4+ writes it on the error stream. */
export interface Status {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes: { reason?: string; message: string }[] };
}

export const success = (): Status => ({ metadata: {}, status: 'Success' });

export function nonZeroExit(cmd: string[], code: number): Status {
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${cmd.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

export function internalError(err: unknown): Status {
  const msg = err instanceof Error ? err.message : String(err);
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${msg}`,
    reason: 'InternalError',
    code: 500,
    details: { causes: [{ message: msg }] },
  };
}

/** The error stream's bytes: JSON for v4+, the bare message (nothing on success) before. */
export function encodeStatus(status: Status, json: boolean): Buffer {
  if (json) return Buffer.from(JSON.stringify(status));
  return Buffer.from(status.status === 'Success' ? '' : (status.message ?? 'error'));
}
