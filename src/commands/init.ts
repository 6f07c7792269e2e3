import { Flags } from '@oclif/core';
import { readFileSync } from 'node:fs';
import { SifkubeCommand } from '../cli/command.js';
import { parseDuration, parsePortMappings } from '../cli/args.js';
import { withSteps } from '../cli/progress.js';
import { checkClusterName, contextName, defaultClusterConfig, INIT_STEPS, initCluster, parseClusterConfig, type InitStep } from '../cluster/index.js';
import { requireRoot, UsageError } from '../errors.js';
import { parseKeyring } from '../sif/index.js';

const TITLES: Record<InitStep, string> = {
  kubernetes: 'Find the Kubernetes, etcd and kubectl binaries',
  state: 'Create the cluster folder (tmpfs, or the --persistent folder)',
  sysctls: 'Record the host sysctls',
  pki: 'Generate the PKI and kubeconfigs',
  cgroups: 'Create the node cgroups',
  network: 'Create the bridge and iptables rules',
  nodes: 'Start the nodes (sifkube-oci) and their CRI servers',
  api: 'Wait for the API server',
  labels: 'Label the nodes',
  ready: 'Wait for the nodes to be Ready',
};

export default class Init extends SifkubeCommand {
  static summary = 'Create a multi-node Kubernetes cluster whose nodes are containers of sifkube\'s runtime';
  static description = 'Finds every binary first: a missing one fails before anything is created. On any later failure the logs are exported to a folder the error names, and what was created is deleted (kept with --retain).';
  static flags = {
    name: Flags.string({ description: 'cluster name', default: 'sifkube' }),
    nodes: Flags.integer({ description: 'number of nodes (one control plane, the rest workers)', exclusive: ['config'] }),
    config: Flags.string({ description: 'cluster config file (apiVersion sifkube.io/v1alpha1, kind Cluster)' }),
    'kubernetes-version': Flags.string({ description: 'Kubernetes release (vMAJOR.MINOR.PATCH)' }),
    'kube-bin-dir': Flags.string({ description: 'folder with the Kubernetes binaries (else the cache, else a verified download)' }),
    persistent: Flags.string({ description: 'keep the cluster state in this folder on disk (new or empty): it survives stop/start and a host reboot' }),
    port: Flags.string({ description: 'map HOST port to NODEPORT on the control-plane node (HOST:NODEPORT[/udp])', multiple: true }),
    kubeconfig: Flags.string({ description: 'kubeconfig to merge the admin context into (default: first of $KUBECONFIG, else ~/.kube/config)' }),
    'require-signed': Flags.string({ description: 'keyring (a file of public keys, or a folder of .pub, .asc and .pem files): every node runs only SIFs a key of it signed' }),
    wait: Flags.string({ description: 'how long to wait for every node Ready (0: do not wait)', default: '2m' }),
    'registry-mirror': Flags.string({ description: 'pull images of registry HOST through URL first, on every node (HOST=URL, e.g. docker.io=http://10.0.0.5:5000)', multiple: true }),
    gpu: Flags.boolean({ description: 'give the NVIDIA GPUs to the nodes that take workloads (the workers, or a lone control-plane node), shared out among them, with the nvidia.com/gpu device plugin' }),
    'gpu-root': Flags.string({ description: 'root of the NVIDIA driver tree the GPUs are found under (default /)' }),
    retain: Flags.boolean({ description: 'keep the cluster if init fails, for debugging (its logs are exported either way)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Init);
    const name = checkClusterName(flags.name);
    const version = flags['kubernetes-version'];
    const registryMirrors = parseMirrors(flags['registry-mirror']);
    const requireSigned = flags['require-signed'];
    const gpus = { gpu: flags.gpu, gpuRoot: flags['gpu-root'] };
    const config = flags.config
      ? parseClusterConfig(readConfig(flags.config), flags.config, { name, kubernetesVersion: version, registryMirrors, requireSigned, ...gpus })
      : defaultClusterConfig(name, flags.nodes ?? 1, version, registryMirrors, requireSigned, gpus);
    // A corrupt keyring fails here, before anything is created.
    if (config.requireSigned) await parseKeyring(config.requireSigned.keyring, config.requireSigned.source);
    config.nodes[0].extraPortMappings.push(...parsePortMappings(flags.port));
    const waitMs = parseDuration('--wait', flags.wait);
    requireRoot('sifkube init');
    const started = Date.now();
    await withSteps(INIT_STEPS.map((id) => ({ id, title: TITLES[id] })), (onStep) => initCluster({ config, kubeBinDir: flags['kube-bin-dir'], persistentDir: flags.persistent, waitMs, kubeconfig: flags.kubeconfig, retain: flags.retain, onStep }));
    this.log(`cluster ${name} is up in ${((Date.now() - started) / 1000).toFixed(1)} s: kubectl --context ${contextName(name)} get nodes (or sifkube kubectl --name ${name} -- get nodes)`);
  }
}

/** `--registry-mirror HOST=URL`, repeated: the mirrors of each host, in the order given. */
function parseMirrors(values: string[] | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const v of values ?? []) {
    const at = v.indexOf('=');
    if (at <= 0) throw new UsageError(`--registry-mirror ${JSON.stringify(v)}: write HOST=URL, e.g. docker.io=http://10.0.0.5:5000`);
    (out[v.slice(0, at)] ??= []).push(v.slice(at + 1));
  }
  return out;
}

function readConfig(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--config ${file}: ${(err as Error).message}: pass a readable cluster config file`);
  }
}
