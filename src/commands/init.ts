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
  static description = 'Finds every binary first: a missing one fails before anything is created. Any later failure deletes what was created.';
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
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Init);
    const name = checkClusterName(flags.name);
    const version = flags['kubernetes-version'];
    const keyring = flags['require-signed'];
    const config = flags.config ? parseClusterConfig(readConfig(flags.config), flags.config, { name, kubernetesVersion: version, requireSigned: keyring }) : defaultClusterConfig(name, flags.nodes ?? 1, version, keyring);
    // A corrupt keyring fails here, before anything is created.
    if (config.requireSigned) await parseKeyring(config.requireSigned.keyring, config.requireSigned.source);
    config.nodes[0].extraPortMappings.push(...parsePortMappings(flags.port));
    const waitMs = parseDuration('--wait', flags.wait);
    requireRoot('sifkube init');
    const started = Date.now();
    await withSteps(INIT_STEPS, TITLES, (onStep) => initCluster({ config, kubeBinDir: flags['kube-bin-dir'], persistentDir: flags.persistent, waitMs, kubeconfig: flags.kubeconfig, onStep }));
    this.log(`cluster ${name} is up in ${((Date.now() - started) / 1000).toFixed(1)} s: kubectl --context ${contextName(name)} get nodes (or sifkube kubectl --name ${name} -- get nodes)`);
  }
}

function readConfig(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--config ${file}: ${(err as Error).message}: pass a readable cluster config file`);
  }
}
