import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { runtimeDefaultSeccomp, type LinuxSeccomp } from '../../runtime/index.js';
import { InvalidArgumentError } from '../errors.js';
import type { SecurityContext } from './spec.js';

type Profile = { kind: 'unconfined' } | { kind: 'runtime-default' } | { kind: 'localhost'; path: string };

/** The profile a container asks for: the CRI field, else the deprecated path field, else the configured default. */
function requested(sc: SecurityContext | null, dflt: 'runtime-default' | 'unconfined'): Profile {
  const s = sc?.seccomp;
  if (s?.profileType) {
    if (s.profileType === 'Unconfined') return { kind: 'unconfined' };
    if (s.profileType === 'RuntimeDefault') return { kind: 'runtime-default' };
    if (s.profileType === 'Localhost') return { kind: 'localhost', path: s.localhostRef };
    throw new InvalidArgumentError(`config.linux.security_context.seccomp.profile_type ${s.profileType} is unknown: use RuntimeDefault, Unconfined or Localhost`);
  }
  const p = sc?.seccompProfilePath ?? '';
  if (!p) return { kind: dflt };
  if (p === 'unconfined') return { kind: 'unconfined' };
  if (p === 'runtime/default' || p === 'docker/default') return { kind: 'runtime-default' };
  if (p.startsWith('localhost/')) return { kind: 'localhost', path: p.slice('localhost/'.length) };
  throw new InvalidArgumentError(`config.linux.security_context.seccomp_profile_path ${p} is unknown: use runtime/default, unconfined or localhost/PATH`);
}

/** A Localhost profile: an OCI linux.seccomp object in a JSON file on the node (the kubelet gives its full path). */
function localhostProfile(path: string): LinuxSeccomp {
  const field = 'config.linux.security_context.seccomp.localhost_ref';
  if (!path || !isAbsolute(path)) throw new InvalidArgumentError(`${field} ${JSON.stringify(path)} must be an absolute path to a seccomp profile on the node`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InvalidArgumentError(`${field} ${path} cannot be read as JSON (${(err as Error).message}): give the path of a seccomp profile file`);
  }
  const p = doc as Partial<LinuxSeccomp> & { archMap?: unknown };
  if (typeof doc !== 'object' || doc === null || typeof p.defaultAction !== 'string') {
    throw new InvalidArgumentError(`${field} ${path} has no defaultAction: a seccomp profile is a JSON object like {"defaultAction":"SCMP_ACT_ALLOW","syscalls":[...]}`);
  }
  if (p.archMap !== undefined || (p.syscalls ?? []).some((s) => 'includes' in s || 'excludes' in s)) {
    throw new InvalidArgumentError(`${field} ${path} uses archMap, includes or excludes (Docker's template form): not supported yet; list architectures and syscalls explicitly`);
  }
  return p as LinuxSeccomp;
}

/** The container's linux.seccomp (undefined: no filter). Privileged containers are never filtered. */
export function seccompFor(sc: SecurityContext | null, dflt: 'runtime-default' | 'unconfined', caps: readonly string[]): LinuxSeccomp | undefined {
  if (sc?.privileged) return undefined;
  const p = requested(sc, dflt);
  if (p.kind === 'unconfined') return undefined;
  if (p.kind === 'runtime-default') return runtimeDefaultSeccomp(caps);
  return localhostProfile(p.path);
}
