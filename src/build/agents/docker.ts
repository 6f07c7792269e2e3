import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { applyLayer, parseReference, pullEndpoints, RegistryClient, sifImageConfig, type Manifest, type OciImageConfig } from '../../cri/index.js';
import { BuildStepError, DefinitionError } from '../errors.js';
import type { Stage } from '../definition.js';
import type { AgentContext, BootstrapAgent } from './agent.js';

interface Resolved {
  client: RegistryClient;
  endpoint: string;
  digest: string;
  manifest: Manifest;
}

function reference(stage: Stage, file: string) {
  const from = stage.header.from.replace(/^(docker|oci):\/\//, '');
  try {
    return parseReference(from, 'From:');
  } catch (err) {
    throw new DefinitionError(file, stage.headerLines.from, (err as Error).message);
  }
}

/** The image's manifest, from the first endpoint (mirrors first) that has it. */
async function resolveImage(stage: Stage, ctx: Pick<AgentContext, 'file' | 'registry'>): Promise<Resolved> {
  const ref = reference(stage, ctx.file);
  const errors: string[] = [];
  for (const ep of pullEndpoints(ctx.registry, ref)) {
    const client = new RegistryClient(ep.url, ref, ep.creds);
    try {
      const r = await client.resolve(ref.digest ?? ref.tag!);
      return { client, endpoint: ep.url, digest: r.manifestDigest, manifest: r.manifest };
    } catch (err) {
      errors.push(`${ep.url}: ${(err as Error).message}`);
    }
  }
  throw new BuildStepError(`From: ${stage.header.from}`, `cannot pull the base image (mirrors and auths come from --registry-config, as the CRI's registry section)`, errors.join('\n'));
}

/**
 * `Bootstrap: docker` (or `oci`), `From: REFERENCE`: pulled with the CRI's registry client (the
 * configured mirrors, credentials and plain-HTTP hosts), its layers applied in order.
 */
export const dockerAgent: BootstrapAgent = {
  async inputs(stage, ctx) {
    return `docker ${(await resolveImage(stage, ctx)).digest}`;
  },
  async bootstrap(stage, ctx) {
    const { client, endpoint, manifest } = await resolveImage(stage, ctx);
    const config = JSON.parse((await client.blobBytes(manifest.config)).toString('utf8')) as OciImageConfig;
    for (const [i, layer] of manifest.layers.entries()) {
      ctx.onOutput(`layer ${i + 1}/${manifest.layers.length} ${layer.digest.slice(7, 19)} from ${endpoint}`);
      const file = join(ctx.work, `layer-${i}`);
      try {
        await client.blobToFile(layer, file);
        await applyLayer(ctx.rootfs, file);
      } catch (err) {
        throw new BuildStepError(`From: ${stage.header.from}`, `layer ${layer.digest}: ${(err as Error).message}`);
      } finally {
        rmSync(file, { force: true });
      }
    }
    return { imageConfig: sifImageConfig(config), labels: config.config?.Labels ?? {} };
  },
};
