/**
 * The image's /.singularity.d, laid out as Singularity lays it out: runscript, startscript, test,
 * env/ (10-docker2singularity.sh from a Docker base, 90-environment.sh from %environment, and
 * 91-environment.sh where %post appended to $SINGULARITY_ENVIRONMENT), labels.json,
 * runscript.help, the definition file as Singularity, and actions/run (what the image's OCI
 * entrypoint runs: the environment scripts sourced, then the runscript).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { secureJoin } from '../cri/index.js';
import { ociRunscript, type ImageConfig } from '../sif/index.js';
import type { BaseImage } from './agents/index.js';
import type { Stage } from './definition.js';

export const SINGULARITY_D = '.singularity.d';
/** Where %post may write `KEY VALUE` lines to add labels (Singularity's $SINGULARITY_LABELS). */
export const POST_LABELS = `/${SINGULARITY_D}/labels.post`;
export const POST_ENVIRONMENT = `/${SINGULARITY_D}/env/91-environment.sh`;
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const ACTION_RUN = `#!/bin/sh
for script in /.singularity.d/env/*.sh; do
    if [ -f "$script" ]; then
        . "$script"
    fi
done
exec /.singularity.d/runscript "$@"
`;

const shellQuote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
const script = (body: string) => `#!/bin/sh\n\n${body}`;

/** A path of the image's /.singularity.d: a base image's links resolve inside the root, never to the host. */
const inImage = (rootfs: string, rel: string) => secureJoin(rootfs, `${SINGULARITY_D}/${rel}`);

function write(rootfs: string, rel: string, text: string, mode: number): void {
  const path = inImage(rootfs, rel);
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  rmSync(path, { force: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

/** Makes the folders %post writes into (env/ for $SINGULARITY_ENVIRONMENT). */
export function prepareMetadata(rootfs: string): void {
  mkdirSync(inImage(rootfs, 'env'), { recursive: true, mode: 0o755 });
}

/** Labels %post wrote to $SINGULARITY_LABELS (the file is then removed). */
function postLabels(rootfs: string): Record<string, string> {
  const file = secureJoin(rootfs, POST_LABELS);
  if (!existsSync(file)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*(\S+)\s+(.*?)\s*$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  rmSync(file);
  return out;
}

export interface ImageMetadata {
  runscript: string;
  environment: string;
  labels: Record<string, string>;
  imageConfig: ImageConfig;
}

/** Writes the final stage's /.singularity.d and returns what the SIF's own objects repeat. */
export function writeMetadata(rootfs: string, stage: Stage, base: BaseImage, definition: string, extraLabels: Record<string, string>): ImageMetadata {
  const s = stage.scripts;
  const existing = inImage(rootfs, 'runscript');
  let runscript: string;
  if (s.runscript) runscript = script(s.runscript.body);
  else if (existsSync(existing)) runscript = readFileSync(existing, 'utf8');
  else runscript = ociRunscript(base.imageConfig);
  write(rootfs, 'runscript', runscript, 0o755);
  if (s.startscript) write(rootfs, 'startscript', script(s.startscript.body), 0o755);
  if (s.test) write(rootfs, 'test', script(s.test.body), 0o755);
  if (s.help) write(rootfs, 'runscript.help', s.help.body, 0o644);
  const dockerEnv = (base.imageConfig?.env ?? []).filter((e) => /^[A-Za-z_]\w*=/.test(e));
  if (dockerEnv.length > 0) {
    const lines = dockerEnv.map((e) => `export ${e.slice(0, e.indexOf('='))}=${shellQuote(e.slice(e.indexOf('=') + 1))}`);
    write(rootfs, 'env/10-docker2singularity.sh', `#!/bin/sh\n${lines.join('\n')}\n`, 0o755);
  }
  const envFile = inImage(rootfs, 'env/90-environment.sh');
  const environment = s.environment ? `#!/bin/sh\n# Custom environment shell code should follow\n\n${s.environment.body}` : existsSync(envFile) ? readFileSync(envFile, 'utf8') : '#!/bin/sh\n# Custom environment shell code should follow\n\n';
  write(rootfs, 'env/90-environment.sh', environment, 0o755);
  write(rootfs, 'actions/run', ACTION_RUN, 0o755);
  write(rootfs, 'Singularity', definition, 0o644);
  const labels: Record<string, string> = { ...base.labels, ...postLabels(rootfs), ...Object.fromEntries(stage.labels.map((l) => [l.key, l.value])), ...extraLabels };
  write(rootfs, 'labels.json', `${JSON.stringify(labels, null, '\t')}\n`, 0o644);
  const env = dockerEnv.some((e) => e.startsWith('PATH=')) ? dockerEnv : [DEFAULT_PATH, ...dockerEnv];
  const c = base.imageConfig;
  const imageConfig: ImageConfig = { entrypoint: [`/${SINGULARITY_D}/actions/run`], env, ...(c?.user ? { user: c.user } : {}), ...(c?.workingDir ? { workingDir: c.workingDir } : {}) };
  return { runscript, environment, labels, imageConfig };
}
