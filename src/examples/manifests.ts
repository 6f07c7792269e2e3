/**
 * An example's manifest as applied to one cluster: hostPath folders under the default cluster's
 * state folder moved to this cluster's (nodes share that folder with the host), and, under --gpu,
 * one `nvidia.com/gpu` asked for by the container that can use it.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { ClusterState } from '../cluster/index.js';
import type { Example } from './catalog.js';
import { exampleFile } from './files.js';

/** The state folder the manifests name: the default cluster's, as a tutorial reader's is. */
const DEFAULT_STATE_DIR = '/var/lib/sifkube/clusters/sifkube';

export interface ManifestOptions {
  gpu?: boolean;
}

type Doc = { kind?: string; metadata?: { name?: string }; spec?: { template?: { spec?: { containers?: { name: string; resources?: { limits?: Record<string, unknown> } }[] } } } };

/** The cluster's state folder as nodes bind it (a --persistent one is a link on the host). */
function stateDir(state: ClusterState): string {
  return realpathSync(state.plan.names.stateDir);
}

/** The host folder an example shares with its pods in `state`'s cluster (the manifest's path, moved). */
export function clusterExampleDir(state: ClusterState, example: string): string {
  return `${stateDir(state)}/examples/${example}`;
}

export function renderManifest(example: Example, state: ClusterState, opts: ManifestOptions = {}): string {
  const text = readFileSync(exampleFile(example.manifest), 'utf8').replaceAll(`${DEFAULT_STATE_DIR}/`, `${stateDir(state)}/`);
  if (!opts.gpu || !example.gpuContainer) return text;
  const { deployment, container } = example.gpuContainer;
  const docs = parseAllDocuments(text);
  for (const doc of docs) {
    const d = doc.toJS() as Doc;
    if (d.kind !== 'Deployment' || d.metadata?.name !== deployment) continue;
    const i = d.spec?.template?.spec?.containers?.findIndex((c) => c.name === container) ?? -1;
    doc.setIn(['spec', 'template', 'spec', 'containers', i, 'resources', 'limits', 'nvidia.com/gpu'], 1);
  }
  // Each document after the first prints its own `---` (the source's marker is kept).
  return docs.map((d, i) => (i > 0 && !d.toString().startsWith('---') ? `---\n${d}` : d.toString())).join('');
}
