import type { CriConfig, RegistryAuth } from '../config.js';
import { defaultEndpoint, type Credentials } from './registry.js';
import type { ImageRef } from './reference.js';

function credsFromConfig(a: RegistryAuth | undefined): Credentials | undefined {
  if (!a) return undefined;
  return a.token ? { token: a.token } : { username: a.username, password: a.password };
}

/**
 * Where a pull of `ref` goes, in order: the configured mirrors of its registry, then the registry
 * itself (plain HTTP where configured), each with the credentials given for the pull or configured
 * for that host. The CRI's pulls and `sifkube build`'s base images share this rule.
 */
export function pullEndpoints(registry: CriConfig['registry'], ref: ImageRef, given?: Credentials): { url: string; creds?: Credentials }[] {
  return [
    ...(registry.mirrors[ref.domain] ?? []).map((url) => ({ url, creds: given ?? credsFromConfig(registry.auths[new URL(url).host]) })),
    { url: defaultEndpoint(ref.domain, registry.plainHttp), creds: given ?? credsFromConfig(registry.auths[ref.domain]) },
  ];
}
