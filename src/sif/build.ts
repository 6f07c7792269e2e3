/**
 * Building a container SIF from a root filesystem, laid out as a Singularity build lays it out:
 * launch script, then in group 1 the definition file, the labels, the environment and JSON objects
 * (sorted by name), then the primary squashfs partition. mksquashfs writes the partition straight
 * into the image at its final, 4096-aligned offset (no temporary copy). The squashfs also gets a
 * Singularity-style /.singularity.d (runscript, env script, labels.json, definition file), added as
 * mksquashfs pseudo files so the root filesystem itself is never touched.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  archCode,
  DataType,
  DEFAULT_DESCRIPTORS_OFFSET,
  DEFAULT_DESCRIPTORS_TOTAL,
  DESCRIPTOR_SIZE,
  FsType,
  hostArch,
  PARTITION_ALIGNMENT,
  PartType,
  SINGULARITY_LAUNCH_SCRIPT,
} from './format.js';
import { SifBuildError, SifInputError } from './errors.js';
import { readSif, readObject, type SifImage } from './read.js';
import { addObject, initSif, parseUuid, type ObjectInput, type TimeOptions } from './write.js';

/** The parts of an OCI image config a runtime needs, stored as JSON.Generic `oci-config.json`. */
export interface ImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  user?: string;
  workingDir?: string;
}

export const IMAGE_CONFIG_NAME = 'oci-config.json';

/** lz4 decompresses fastest of the kernel's squashfs codecs, so images mount and load fastest. */
export const COMPRESSIONS = ['lz4', 'gzip', 'zstd', 'xz', 'lzo', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];
export const DEFAULT_COMPRESSION: Compression = 'lz4';

export interface BuildOptions {
  rootfs: string;
  out: string;
  /** Body of /.singularity.d/runscript (a shell script; `#!/bin/sh` is added when missing). */
  runscript?: string;
  env?: Record<string, string>;
  /** The environment script verbatim (a definition's %environment), instead of one made from `env`. */
  environment?: string;
  labels?: Record<string, string>;
  /** The definition file text; one describing the build is generated when absent. */
  definition?: string;
  imageConfig?: ImageConfig;
  /** Same input, same bytes: no times (Go's zero time, squashfs time 0) and a nil ID. */
  deterministic?: boolean;
  /** A fixed time for the SIF and every file in the squashfs: reproducible, but dated. */
  time?: Date;
  /** A fixed image ID (UUID); random by default, nil when deterministic. */
  id?: string;
  compression?: Compression;
  /** Go architecture name of the root filesystem; this machine's by default. */
  arch?: string;
  /** Extra JSON.Generic objects by name. */
  json?: Record<string, unknown>;
}

/** Quotes a value for a POSIX shell, in single quotes. */
function shellQuote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

function runscriptFor(opts: BuildOptions): string {
  if (opts.runscript !== undefined) return opts.runscript.startsWith('#!') ? opts.runscript : `#!/bin/sh\n${opts.runscript}\n`;
  return ociRunscript(opts.imageConfig);
}

/** A runscript that runs an OCI image's entrypoint and cmd as `docker run` would (a shell when it has neither). */
export function ociRunscript(c: ImageConfig | undefined): string {
  const argv = [...(c?.entrypoint ?? []), ...(c?.cmd ?? [])];
  if (argv.length > 0) {
    const [cmd, ...args] = argv.map(shellQuote);
    // Arguments replace the image's CMD, as `docker run IMAGE ARGS` does.
    const fixed = (c?.entrypoint ?? []).map(shellQuote).join(' ');
    return `#!/bin/sh\nif [ $# -gt 0 ]; then\n  exec ${fixed || '"$@"'}${fixed ? ' "$@"' : ''}\nfi\nexec ${[cmd, ...args].join(' ')}\n`;
  }
  return '#!/bin/sh\nexec /bin/sh "$@"\n';
}

function envScriptFor(opts: BuildOptions): string {
  if (opts.environment !== undefined) return opts.environment;
  const lines = ['#!/bin/sh', '# Environment of the container, sourced by the runtime.'];
  const fromConfig = (opts.imageConfig?.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] as const).filter(([k]) => k !== '');
  for (const [k, v] of [...fromConfig, ...Object.entries(opts.env ?? {})]) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new SifInputError(`environment variable name ${JSON.stringify(k)} is invalid: use letters, digits and _`);
    lines.push(`export ${k}=${shellQuote(v)}`);
  }
  return `${lines.join('\n')}\n`;
}

function definitionFor(opts: BuildOptions, runscript: string, env: Record<string, string>): string {
  if (opts.definition !== undefined) return opts.definition;
  const out = ['Bootstrap: scratch', ''];
  if (Object.keys(env).length > 0) out.push('%environment', ...Object.entries(env).map(([k, v]) => `    export ${k}=${shellQuote(v)}`), '');
  if (Object.keys(opts.labels ?? {}).length > 0) out.push('%labels', ...Object.entries(opts.labels ?? {}).map(([k, v]) => `    ${k} ${v}`), '');
  out.push('%runscript', ...runscript.replace(/^#!.*\n/, '').trimEnd().split('\n').map((l) => `    ${l}`), '');
  return out.join('\n');
}

/** The /.singularity.d entries, as mksquashfs pseudo definitions over files in `stage`. */
function pseudoDefinitions(rootfs: string, stage: string, files: Record<string, { text: string; mode: string; given: boolean }>): { pseudo: string; excludes: string[] } {
  const lines: string[] = [];
  const excludes: string[] = [];
  for (const dir of ['.singularity.d', '.singularity.d/env']) if (!existsSync(join(rootfs, dir))) lines.push(`/${dir} d 755 0 0`);
  let n = 0;
  for (const [path, f] of Object.entries(files)) {
    if (existsSync(join(rootfs, path))) {
      // The image's own file wins unless the caller gave a value for it.
      if (!f.given) continue;
      excludes.push(path);
    }
    const staged = join(stage, `f${n++}`);
    writeFileSync(staged, f.text);
    lines.push(`/${path} f ${f.mode} 0 0 cat ${staged}`);
  }
  for (const [link, target] of [['singularity', '.singularity.d/runscript'], ['environment', '.singularity.d/env/90-environment.sh']]) {
    if (!existsSync(join(rootfs, link))) lines.push(`/${link} s 777 0 0 ${target}`);
  }
  return { pseudo: `${lines.join('\n')}\n`, excludes };
}

function runMksquashfs(args: string[], what: string): void {
  try {
    execFileSync('mksquashfs', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new SifBuildError(what, 'mksquashfs is not installed: apt-get install -y squashfs-tools');
    const msg = (e.stderr?.toString() ?? e.message).trim().split('\n').filter(Boolean).slice(-1)[0] ?? 'failed';
    throw new SifBuildError(what, `mksquashfs failed: ${msg}`);
  }
}

/** Builds a container SIF at `opts.out` from the directory `opts.rootfs`. */
export function buildSif(opts: BuildOptions): SifImage {
  const st = existsSync(opts.rootfs) ? statSync(opts.rootfs) : undefined;
  if (!st?.isDirectory()) throw new SifBuildError(opts.rootfs, 'root filesystem is not a directory: pass the folder holding the container files');
  if (!existsSync(dirname(opts.out))) throw new SifBuildError(opts.out, 'output folder does not exist: create it first');
  const compression = opts.compression ?? DEFAULT_COMPRESSION;
  if (!COMPRESSIONS.includes(compression)) throw new SifInputError(`compression ${JSON.stringify(compression)} is not one of ${COMPRESSIONS.join(', ')}`);
  if (opts.time && (Number.isNaN(opts.time.getTime()) || opts.time.getTime() < 0 || opts.time.getTime() >= 2 ** 32 * 1000)) {
    throw new SifInputError(`time ${opts.time} is out of range: squashfs holds times from 1970 to 2106`);
  }
  if (opts.id !== undefined) parseUuid(opts.id);
  const arch = archCode(opts.arch ?? hostArch());
  if (!arch) throw new SifInputError(`architecture ${JSON.stringify(opts.arch)} is unknown: use a Go name such as amd64 or arm64`);

  const env: Record<string, string> = Object.fromEntries((opts.imageConfig?.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  Object.assign(env, opts.env ?? {});
  const runscript = runscriptFor(opts);
  const envScript = envScriptFor(opts);
  const labels = { ...(opts.labels ?? {}) };
  const definition = definitionFor(opts, runscript, opts.env ?? {});
  const labelsJson = `${JSON.stringify(labels, null, '\t')}\n`;

  const meta: ObjectInput[] = [{ dataType: DataType.DefFile, data: Buffer.from(definition) }];
  meta.push({ dataType: DataType.Labels, data: Buffer.from(labelsJson) });
  meta.push({ dataType: DataType.EnvVars, data: Buffer.from(envScript) });
  const json: Record<string, unknown> = { ...(opts.json ?? {}) };
  if (opts.imageConfig) json[IMAGE_CONFIG_NAME] = opts.imageConfig;
  for (const name of Object.keys(json).sort()) meta.push({ dataType: DataType.GenericJSON, name, data: Buffer.from(JSON.stringify(json[name])) });

  const dataOffset = DEFAULT_DESCRIPTORS_OFFSET + DEFAULT_DESCRIPTORS_TOTAL * DESCRIPTOR_SIZE;
  const metaEnd = dataOffset + meta.reduce((n, o) => n + (o.data as Buffer).length, 0);
  const partOffset = Math.ceil(metaEnd / PARTITION_ALIGNMENT) * PARTITION_ALIGNMENT;

  // Built under a temporary name and renamed at the end, so a failed build never harms an old image.
  const tmp = `${opts.out}.${process.pid}-${Date.now()}.partial`;
  const stage = mkdtempSync(join(tmpdir(), 'sifkube-build-'));
  try {
    const { pseudo, excludes } = pseudoDefinitions(opts.rootfs, stage, {
      '.singularity.d/runscript': { text: runscript, mode: '755', given: opts.runscript !== undefined || opts.imageConfig !== undefined },
      '.singularity.d/env/90-environment.sh': { text: envScript, mode: '755', given: Object.keys(env).length > 0 || opts.environment !== undefined },
      '.singularity.d/labels.json': { text: labelsJson, mode: '644', given: opts.labels !== undefined },
      '.singularity.d/Singularity': { text: definition, mode: '644', given: opts.definition !== undefined },
    });
    writeFileSync(join(stage, 'pseudo'), pseudo);
    const args = [opts.rootfs, tmp, '-noappend', '-offset', String(partOffset), '-no-progress', '-quiet', '-pf', join(stage, 'pseudo')];
    args.push(...(compression === 'none' ? ['-noI', '-noD', '-noF', '-noX'] : ['-comp', compression]));
    if (opts.time || opts.deterministic) {
      const t = String(Math.max(0, Math.floor((opts.time?.getTime() ?? 0) / 1000)));
      args.push('-mkfs-time', t, '-all-time', t);
    }
    for (const e of excludes) args.push('-e', e);
    closeSync(openSync(tmp, 'w'));
    runMksquashfs(args, opts.out);
    const times: TimeOptions = opts.time ? { time: opts.time } : { deterministic: opts.deterministic };
    const size = statSync(tmp).size - partOffset;
    initSif(tmp, { launchScript: SINGULARITY_LAUNCH_SCRIPT, id: opts.id ?? (opts.deterministic ? undefined : randomUUID()), ...times, deterministic: opts.deterministic && !opts.time });
    for (const o of meta) addObject(tmp, o, times);
    addObject(tmp, { dataType: DataType.Partition, data: { inPlace: size }, partition: { fsType: FsType.Squashfs, partType: PartType.PrimSys, arch } }, times);
    renameSync(tmp, opts.out);
  } finally {
    rmSync(tmp, { force: true });
    rmSync(stage, { recursive: true, force: true });
  }
  return readSif(opts.out);
}

/** The OCI image config stored by buildSif, or undefined when the image has none. */
export function readImageConfig(file: string): ImageConfig | undefined {
  const image = readSif(file);
  const d = image.descriptors.find((x) => x.dataType === DataType.GenericJSON && x.name === IMAGE_CONFIG_NAME);
  if (!d) return undefined;
  try {
    return JSON.parse(readObject(image, d.id).toString('utf8')) as ImageConfig;
  } catch {
    throw new SifBuildError(file, `object ${d.id} (${IMAGE_CONFIG_NAME}) is not valid JSON: rebuild the image`);
  }
}
