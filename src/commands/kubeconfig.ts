import { Flags } from '@oclif/core';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { SifkubeCommand } from '../cli/command.js';
import { checkClusterName, clusterNames, contextName, defaultKubeconfigPath, mergeKubeconfig, pkiPaths, readClusterState } from '../cluster/index.js';
import { requireRoot } from '../errors.js';

export default class Kubeconfig extends SifkubeCommand {
  static summary = "Print a cluster's admin kubeconfig, or merge it into your kubeconfig as context sifkube-<name>";
  static flags = {
    name: Flags.string({ description: 'cluster name', default: 'sifkube' }),
    merge: Flags.boolean({ description: 'merge into the kubeconfig file and make it the current context (as kind does)' }),
    kubeconfig: Flags.string({ description: 'file to merge into (default: first of $KUBECONFIG, else ~/.kube/config)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Kubeconfig);
    requireRoot('sifkube kubeconfig');
    const name = checkClusterName(flags.name);
    readClusterState(name); // a clear error when there is no such cluster
    const text = readFileSync(pkiPaths(clusterNames(name).stateDir).kubeconfig.admin, 'utf8');
    if (!flags.merge) return void process.stdout.write(text);
    const file = flags.kubeconfig ?? defaultKubeconfigPath();
    mergeKubeconfig(file, parse(text));
    this.log(`merged context ${contextName(name)} into ${file} and made it current`);
  }
}
