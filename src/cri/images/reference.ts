import { InvalidArgumentError } from '../errors.js';

/** A parsed image reference, normalized as Docker and containerd normalize it. */
export interface ImageRef {
  /** Registry host as written (docker.io for Docker Hub). */
  domain: string;
  /** Repository path inside the registry (library/busybox). */
  path: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d+)?$|^\[[0-9a-fA-F:]+\](?::\d+)?$/;

/** Parses `name[:tag][@digest]`; a name with neither tag nor digest gets `latest`. */
export function parseReference(input: string, field = 'image'): ImageRef {
  const bad = (why: string) => new InvalidArgumentError(`${field} ${input} is not a valid image reference: ${why}`);
  if (input === '' || input.length > 4096 || /\s/.test(input)) throw bad('write NAME[:TAG][@sha256:DIGEST], for example docker.io/library/busybox:1.36');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(`the digest ${digest} must be sha256: and 64 lower-case hex digits`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`the tag ${tag} may hold letters, digits, _ . - (at most 128)`);
  }
  const parts = rest.split('/');
  let domain = 'docker.io';
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) {
    domain = parts.shift()!;
    if (!DOMAIN.test(domain)) throw bad(`the registry host ${domain} is not a host name`);
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && parts.length === 1) parts.unshift('library');
  for (const p of parts) if (!COMPONENT.test(p)) throw bad(`the path component "${p}" must be lower-case letters and digits, separated by . _ __ or -`);
  if (!tag && !digest) tag = 'latest';
  return { domain, path: parts.join('/'), tag, digest };
}

/** `docker.io/library/busybox` */
export function repository(ref: ImageRef): string {
  return `${ref.domain}/${ref.path}`;
}

/** The normalized name:tag, as RepoTags lists it (undefined for a digest-only reference). */
export function taggedName(ref: ImageRef): string | undefined {
  return ref.tag ? `${repository(ref)}:${ref.tag}` : undefined;
}

/** The reference as a string (normalized). */
export function formatReference(ref: ImageRef): string {
  return `${repository(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** Registry hosts reached over plain HTTP without configuration: only this machine. */
export function isLoopbackHost(domain: string): boolean {
  const host = domain.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The `local.file/ABSOLUTE/PATH.sif` form: a SIF used where it lies, as Singularity-CRI did. */
export const LOCAL_FILE_PREFIX = 'local.file/';

/** The host path of a local.file reference; the `:latest` the kubelet adds to every untagged name is dropped. */
export function localFilePath(image: string): string | undefined {
  return image.startsWith(LOCAL_FILE_PREFIX) ? `/${image.slice(LOCAL_FILE_PREFIX.length).replace(/:latest$/, '')}` : undefined;
}

/** The name a local.file image is listed under: with `:latest`, as any untagged name (crictl reads NAME:TAG). */
export function localFileTag(file: string): string {
  return `${LOCAL_FILE_PREFIX}${file.slice(1)}:latest`;
}
