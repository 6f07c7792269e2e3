import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { readImageConfig, readSif } from '../../sif/index.js';
import type { CriConfig } from '../config.js';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, UnimplementedError } from '../errors.js';
import type { Logger } from '../log.js';
import { SignedImagePolicy } from './policy.js';
import { Puller } from './pull.js';
import { localFilePath, localFileTag, parseReference, repository, taggedName } from './reference.js';
import { pullEndpoints } from './endpoints.js';
import type { Credentials } from './registry.js';
import { ImageStore, type ImageRecord } from './store.js';

/** The CRI AuthConfig message as decoded. */
export interface AuthConfig {
  username: string;
  password: string;
  auth: string;
  serverAddress: string;
  identityToken: string;
  registryToken: string;
}

function credsFromRequest(auth: AuthConfig | null | undefined): Credentials | undefined {
  if (!auth) return undefined;
  if (auth.registryToken) return { token: auth.registryToken };
  if (auth.username) return { username: auth.username, password: auth.password };
  if (auth.auth) {
    const plain = Buffer.from(auth.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon < 0) throw new InvalidArgumentError('auth.auth must be base64 of USER:PASSWORD');
    return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
  }
  if (auth.identityToken) throw new UnimplementedError('not supported yet: auth.identity_token (OAuth2 refresh tokens): send username and password or registry_token');
  return undefined;
}

/** The user an image runs as, as the CRI Image message reports it: a numeric UID, or a name. */
export function imageUser(rec: ImageRecord): { uid: { value: string } | null; username: string } {
  const user = (rec.config.config?.User ?? '').split(':')[0];
  if (user === '') return { uid: null, username: '' };
  return /^\d+$/.test(user) ? { uid: { value: user }, username: '' } : { uid: null, username: user };
}

/** Images: lookup by any name the CRI uses, pulls from registries, local SIFs, removal. */
export class ImageService {
  readonly store: ImageStore;
  private readonly puller: Puller;
  private readonly policy?: SignedImagePolicy;
  private readonly fileDigests = new Map<string, { key: string; id: string }>();

  constructor(
    private readonly config: CriConfig,
    private readonly log: Logger,
  ) {
    this.store = new ImageStore(config.imageDir, config.imageScope);
    this.puller = new Puller(this.store, log);
    if (config.requireSigned) this.policy = new SignedImagePolicy(config.requireSigned, log);
  }

  /** Under `requireSigned`, refuses an image no key of the keyring signed (before a container of it is made). */
  async checkSigned(image: string, rec: ImageRecord): Promise<void> {
    await this.policy?.check(image, rec);
  }

  /**
   * The image a CRI image string names: an image ID (sha256:…, the 64 hex digits, or a unique
   * prefix of at least 12), a name (short, name:tag, name@digest), or a local.file/ path.
   */
  find(image: string, field = 'image.image'): ImageRecord | undefined {
    if (image === '') throw new InvalidArgumentError(`${field} is empty: name an image`);
    if (/^sha256:[0-9a-f]{64}$/.test(image)) return this.store.byId(image);
    if (/^[0-9a-f]{64}$/.test(image)) return this.store.byId(`sha256:${image}`);
    if (/^[0-9a-f]{12,63}$/.test(image)) {
      const m = this.store.list().filter((i) => i.id.startsWith(`sha256:${image}`));
      if (m.length === 1) return m[0];
    }
    const file = localFilePath(image);
    if (file) return this.store.list().find((i) => i.external && i.sif === file);
    const ref = parseReference(image, field);
    if (ref.digest) return this.store.byDigest(`${repository(ref)}@${ref.digest}`);
    return this.store.byTag(taggedName(ref)!);
  }

  async pull(image: string, auth: AuthConfig | null | undefined): Promise<ImageRecord> {
    if (image === '') throw new InvalidArgumentError('image.image is empty: name the image to pull');
    const file = localFilePath(image);
    if (file) return this.addLocalFile(image, file);
    const ref = parseReference(image, 'image.image');
    return this.puller.pull({ ref, endpoints: pullEndpoints(this.config.registry, ref, credsFromRequest(auth)) });
  }

  /** A SIF used in place: checked to be a SIF, identified by the digest of its bytes. */
  private async addLocalFile(image: string, file: string): Promise<ImageRecord> {
    if (!isAbsolute(file) || !file.endsWith('.sif')) throw new InvalidArgumentError(`image.image ${image}: write local.file/ABSOLUTE/PATH.sif (optionally with :latest)`);
    if (!existsSync(file)) throw new NotFoundError(`image.image ${image}: ${file} does not exist`);
    try {
      readSif(file);
    } catch (err) {
      throw new InvalidArgumentError(`image.image ${image}: ${file} is not a SIF image: ${(err as Error).message}`);
    }
    const st = statSync(file);
    const key = `${st.size}:${st.mtimeMs}:${st.ino}`;
    let id = this.fileDigests.get(file)?.key === key ? this.fileDigests.get(file)!.id : undefined;
    if (!id) {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
      id = `sha256:${hash.digest('hex')}`;
      this.fileDigests.set(file, { key, id });
    }
    const existing = this.store.known(id);
    // The OCI config a SIF built by sifkube carries, back in the image-config form.
    const c = readImageConfig(file);
    const config = existing?.config ?? {
      architecture: 'amd64',
      os: 'linux',
      config: { Entrypoint: c?.entrypoint, Cmd: c?.cmd, Env: c?.env, User: c?.user, WorkingDir: c?.workingDir },
    };
    return this.store.put(existing ?? { id, repoTags: [], repoDigests: [], size: st.size, sif: file, config, external: true }, [localFileTag(file)], []);
  }

  /** Removing an unknown image succeeds (the call is idempotent); an image a container uses is refused. */
  remove(image: string, usedBy: (id: string) => string[]): void {
    const rec = this.find(image);
    if (!rec) return;
    const users = usedBy(rec.id);
    if (users.length > 0) throw new FailedPreconditionError(`image ${image} (${rec.id}) is used by container(s) ${users.map((c) => c.slice(0, 12)).join(', ')}: remove them first`);
    this.store.delete(rec.id);
    this.log.info(`image ${rec.id.slice(0, 19)} removed (${[...rec.repoTags, ...rec.repoDigests].join(', ')})`);
  }
}
