import { Args, Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { importKubernetes, versionCacheDir } from '../../cluster/index.js';
import { requireRoot, UsageError } from '../../errors.js';
import { existsSync, statSync } from 'node:fs';

export default class KubeImport extends SifkubeCommand {
  static summary = 'Fill the Kubernetes binary cache from a folder (for machines without network)';
  static description = 'Checks that kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kube-proxy are in DIR and all report the same release (`<bin> --version`), then copies them to /var/cache/sifkube/kubernetes/<version>/.';
  static args = { dir: Args.string({ description: 'folder holding the release binaries', required: true }) };
  static flags = { 'kubernetes-version': Flags.string({ description: 'refuse the folder unless it holds this release (vMAJOR.MINOR.PATCH)' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(KubeImport);
    requireRoot('sifkube kube import');
    if (!existsSync(args.dir) || !statSync(args.dir).isDirectory()) throw new UsageError(`${args.dir}: no such folder: pass the folder that holds the Kubernetes release binaries`);
    const { version, binaries } = await importKubernetes(args.dir, flags['kubernetes-version']);
    this.log(`imported Kubernetes ${version} (${binaries.join(', ')}) into ${versionCacheDir(version)}`);
  }
}
