import { Flags } from '@oclif/core';
import { SifkubeCommand } from '../cli/command.js';
import { gpuChecks, kernelRelease, kubernetesBinariesCheck, runHostChecks } from '../cluster/index.js';

export default class Doctor extends SifkubeCommand {
  static summary = 'Check this host for everything sifkube needs';
  static description =
    'One row per requirement (root, namespaces, overlayfs, squashfs, loop or FUSE, bridge/veth, cgroups, helper programs, CNI plugins, debootstrap for `sifkube build`, the default Kubernetes release in the cache or downloadable, and for GPU passthrough the NVIDIA devices, driver version, GPUs and driver files) with the fix for each miss. Exits 1 when something `sifkube init` needs is missing.';
  static flags = {
    json: Flags.boolean({ description: 'print the checks as JSON' }),
    'gpu-root': Flags.string({ description: 'root of the NVIDIA driver tree to look for GPUs under', default: '/' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Doctor);
    const checks = [...runHostChecks(), await kubernetesBinariesCheck(), ...gpuChecks(flags['gpu-root'])];
    const missing = checks.filter((c) => c.status === 'missing').length;
    if (flags.json) {
      this.printJson({ kernel: kernelRelease(), ok: missing === 0, checks });
    } else {
      const width = Math.max(...checks.map((c) => c.name.length)) + 2;
      this.log(`kernel ${kernelRelease()}`);
      for (const c of checks) {
        const mark = c.status === 'ok' ? 'ok  ' : c.status === 'missing' ? 'MISS' : 'opt ';
        this.log(`${mark} ${c.name.padEnd(width)}${c.status === 'ok' ? c.detail : `${c.detail} — fix: ${c.fix}`}`);
      }
      this.log(missing === 0 ? 'everything sifkube init needs is here' : `${missing} requirement(s) of sifkube init missing`);
    }
    if (missing > 0) this.exit(1);
  }
}
