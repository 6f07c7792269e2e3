import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { CriOperationError, NotFoundError, UnimplementedError } from '../errors.js';
import { isLoopbackHost, type ImageRef } from './reference.js';

/** Credentials for one pull: from the request's AuthConfig or the server configuration. */
export interface Credentials {
  username?: string;
  password?: string;
  /** A bearer token sent as is (AuthConfig.registry_token or a configured token). */
  token?: string;
}

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
}

export interface Manifest {
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** The registry endpoint for a host: Docker Hub's API host, plain HTTP for this machine and the hosts configured so, else HTTPS. */
export function defaultEndpoint(domain: string, plainHttp: string[] = []): string {
  if (domain === 'docker.io') return 'https://registry-1.docker.io';
  return `${isLoopbackHost(domain) || plainHttp.includes(domain) ? 'http' : 'https'}://${domain}`;
}

function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^(\w+)\s*(.*)$/.exec(header.trim());
  const params: Record<string, string> = {};
  for (const p of (m?.[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) params[p[1]] = p[2];
  return { scheme: (m?.[1] ?? '').toLowerCase(), params };
}

/** The Go architecture name of this machine, as image platforms spell it. */
export function hostPlatform(): { os: string; architecture: string } {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

/** Bearer tokens by endpoint, repository and credentials. */
const tokens = new Map<string, { authorization: string; until: number }>();

const MANIFEST_TYPES = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest];

/**
 * A Docker Registry HTTP API v2 client for one repository at one endpoint: anonymous, Basic and
 * Bearer-token authentication (the token fetched from the realm the registry names).
 */
export class RegistryClient {
  private authorization?: string;

  constructor(
    private readonly endpoint: string,
    private readonly ref: ImageRef,
    private readonly creds: Credentials | undefined,
  ) {
    if (creds?.token) this.authorization = `Bearer ${creds.token}`;
    else {
      const cached = tokens.get(this.tokenKey());
      if (cached && cached.until > Date.now()) this.authorization = cached.authorization;
    }
  }

  private tokenKey(): string {
    return `${this.endpoint} ${this.ref.path} ${this.basic() ?? ''}`;
  }

  private basic(): string | undefined {
    if (this.creds?.username === undefined) return undefined;
    return `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password ?? ''}`).toString('base64')}`;
  }

  private async authenticate(challenge: string): Promise<void> {
    const { scheme, params } = parseChallenge(challenge);
    if (scheme === 'basic') {
      const basic = this.basic();
      if (!basic) throw new CriOperationError(`registry ${this.ref.domain} needs a user name and password for ${this.ref.path}: send them in the pull's auth or set registry.auths.${this.ref.domain}`);
      this.authorization = basic;
      return;
    }
    if (scheme !== 'bearer' || !params.realm) throw new CriOperationError(`registry ${this.ref.domain} asks for ${challenge}: an authentication sifkube does not speak`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${this.ref.path}:pull`);
    const basic = this.basic();
    const res = await fetch(url, { headers: basic ? { authorization: basic } : {} });
    if (!res.ok) throw new CriOperationError(`registry ${this.ref.domain}: the token service ${url.origin}${url.pathname} refused the credentials (HTTP ${res.status}): check the user name and password`);
    const body = (await res.json()) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw new CriOperationError(`registry ${this.ref.domain}: the token service answered without a token`);
    this.authorization = `Bearer ${token}`;
    // Kept for the next pulls of the repository (a re-pull then costs one manifest request), until
    // shortly before it expires (60 s when the service does not say).
    const life = Math.min(Number(body.expires_in) || 60, 3600);
    tokens.set(this.tokenKey(), { authorization: this.authorization, until: Date.now() + (life - 10) * 1000 });
  }

  private async get(path: string, accept?: string[], method = 'GET'): Promise<Response> {
    const url = `${this.endpoint}/v2/${this.ref.path}/${path}`;
    const send = () =>
      fetch(url, { method, headers: { ...(accept ? { accept: accept.join(', ') } : {}), ...(this.authorization ? { authorization: this.authorization } : {}) }, redirect: 'follow' });
    let res: Response;
    try {
      res = await send();
      if (res.status === 401) {
        const challenge = res.headers.get('www-authenticate');
        await res.body?.cancel();
        if (!challenge) throw new CriOperationError(`registry ${this.ref.domain} refused ${this.ref.path} (HTTP 401) without saying how to authenticate`);
        await this.authenticate(challenge);
        res = await send();
      }
    } catch (err) {
      if (err instanceof CriOperationError) throw err;
      throw new CriOperationError(`cannot reach the registry at ${this.endpoint}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new CriOperationError(`registry ${this.ref.domain} refused access to ${this.ref.path} (HTTP ${res.status}): check the credentials`);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      throw new NotFoundError(`image ${this.ref.domain}/${this.ref.path} has no ${path.replace(/^manifests\//, '')} at ${this.endpoint}: check the name and tag`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new CriOperationError(`registry ${this.endpoint} answered HTTP ${res.status} for ${path}`);
    }
    return res;
  }

  /** The digest of what a tag names now, from a HEAD request (undefined when the registry does not say). */
  async headDigest(reference: string): Promise<string | undefined> {
    const res = await this.get(`manifests/${reference}`, MANIFEST_TYPES, 'HEAD');
    const digest = res.headers.get('docker-content-digest') ?? undefined;
    return digest && /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : undefined;
  }

  /** A manifest or index by tag or digest, its digest checked. */
  async manifest(reference: string): Promise<{ digest: string; mediaType: string; body: Buffer }> {
    const res = await this.get(`manifests/${reference}`, MANIFEST_TYPES);
    const body = Buffer.from(await res.arrayBuffer());
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new CriOperationError(`registry ${this.endpoint} served a manifest whose digest is ${digest}, not the ${reference} asked for`);
    }
    const json = JSON.parse(body.toString('utf8')) as { mediaType?: string; schemaVersion?: number; manifests?: unknown; layers?: unknown };
    const mediaType = json.mediaType ?? res.headers.get('content-type')?.split(';')[0] ?? (json.manifests ? MEDIA.ociIndex : MEDIA.ociManifest);
    if (json.schemaVersion === 1) throw new UnimplementedError(`not supported yet: ${this.ref.domain}/${this.ref.path}:${reference} is a Docker schema 1 manifest`);
    return { digest, mediaType, body };
  }

  /** Resolves a tag or digest to a single-platform manifest, choosing this machine's platform from an index. */
  async resolve(reference: string): Promise<{ manifestDigest: string; indexDigest?: string; manifest: Manifest }> {
    let m = await this.manifest(reference);
    let indexDigest: string | undefined;
    if (m.mediaType === MEDIA.ociIndex || m.mediaType === MEDIA.dockerList) {
      indexDigest = m.digest;
      const index = JSON.parse(m.body.toString('utf8')) as { manifests: Descriptor[] };
      const want = hostPlatform();
      const pick = index.manifests.find((d) => d.platform?.os === want.os && d.platform?.architecture === want.architecture);
      if (!pick) {
        const have = index.manifests.map((d) => `${d.platform?.os}/${d.platform?.architecture}`).join(', ');
        throw new NotFoundError(`image ${this.ref.domain}/${this.ref.path} has no ${want.os}/${want.architecture} manifest (it has ${have})`);
      }
      m = await this.manifest(pick.digest);
    }
    if (m.mediaType !== MEDIA.ociManifest && m.mediaType !== MEDIA.dockerManifest) {
      throw new UnimplementedError(`not supported yet: manifest media type ${m.mediaType} of ${this.ref.domain}/${this.ref.path}`);
    }
    return { manifestDigest: m.digest, indexDigest, manifest: JSON.parse(m.body.toString('utf8')) as Manifest };
  }

  /** A blob's bytes in memory (the image config), digest checked. */
  async blobBytes(desc: Descriptor): Promise<Buffer> {
    const body = Buffer.from(await (await this.get(`blobs/${desc.digest}`)).arrayBuffer());
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (digest !== desc.digest) throw new CriOperationError(`registry ${this.endpoint} served blob ${desc.digest} with digest ${digest}`);
    return body;
  }

  /** Streams a blob to `file`, checking its digest on the way. */
  async blobToFile(desc: Descriptor, file: string): Promise<void> {
    const res = await this.get(`blobs/${desc.digest}`);
    const hash = createHash('sha256');
    const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => hash.update(chunk));
    await pipeline(body, createWriteStream(file));
    const digest = `sha256:${hash.digest('hex')}`;
    if (digest !== desc.digest) throw new CriOperationError(`registry ${this.endpoint} served layer ${desc.digest} with digest ${digest}`);
  }
}
