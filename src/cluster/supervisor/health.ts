import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';

/** How the supervisor decides a component is healthy: a 2xx answer from its health endpoint. */
export interface HealthCheck {
  url: string;
  /** CA that signed the endpoint's certificate (https) */
  caFile?: string;
  /** the endpoint serves a self-signed certificate on loopback (kube-scheduler, kube-controller-manager) */
  insecure?: boolean;
}

export function probe(check: HealthCheck, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const https = check.url.startsWith('https:');
    const opts = https ? { ca: check.caFile ? readFileSync(check.caFile) : undefined, rejectUnauthorized: !check.insecure, timeout: timeoutMs } : { timeout: timeoutMs };
    const req = (https ? httpsRequest : httpRequest)(check.url, opts, (res) => {
      res.resume();
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
