import { Flags } from '@oclif/core';
import { Listr } from 'listr2';
import { SifkubeCommand } from '../../cli/command.js';
import { checkKubernetesVersion, DEFAULT_KUBERNETES_VERSION, KUBE_BINARIES, resolveKubernetes, versionCacheDir } from '../../cluster/index.js';
import { requireRoot } from '../../errors.js';

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

export default class KubeFetch extends SifkubeCommand {
  static summary = 'Download a Kubernetes release into the cache, verifying each binary against its published SHA-256';
  static description = 'Downloads from https://dl.k8s.io/release (or SIFKUBE_KUBE_RELEASE_URL). A binary already cached is not downloaded again.';
  static flags = { 'kubernetes-version': Flags.string({ description: 'release to fetch', default: DEFAULT_KUBERNETES_VERSION }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(KubeFetch);
    requireRoot('sifkube kube fetch');
    const version = checkKubernetesVersion(flags['kubernetes-version']);
    const tasks = new Listr(
      [
        {
          title: `Kubernetes ${version}: ${KUBE_BINARIES.join(', ')}`,
          task: async (_ctx, task) => {
            await resolveKubernetes({
              version,
              onDownload: (bin, got, total) => (task.output = `${bin}: ${mib(got)}${total ? ` of ${mib(total)}` : ''}`),
            });
          },
        },
      ],
      { rendererOptions: { collapseErrors: false }, exitOnError: true },
    );
    await tasks.run();
    this.log(`Kubernetes ${version} is in ${versionCacheDir(version)}`);
  }
}
