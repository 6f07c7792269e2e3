import { Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { requireRoot } from '../../errors.js';
import { createLogger, loadCriConfig, startCriServer } from '../../cri/index.js';
import { loadKeyring } from '../../sif/index.js';

export default class CriServe extends SifkubeCommand {
  static summary = 'Serve the Kubernetes CRI (runtime.v1) on a unix socket';
  static description = 'Runs until SIGINT or SIGTERM. The YAML --config file sets the state, image and CNI folders, registry mirrors and credentials, the streaming address, the default seccomp behaviour, the log level and requireSigned (a keyring: containers only from SIFs its keys signed).';
  static flags = {
    socket: Flags.string({ description: 'unix socket to listen on', default: '/run/sifkube/cri/cri.sock' }),
    config: Flags.string({ description: 'YAML configuration file' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(CriServe);
    const config = loadCriConfig(flags.config);
    requireRoot('sifkube cri serve');
    // A bad keyring fails the start, not every container creation later.
    if (config.requireSigned) await loadKeyring(config.requireSigned);
    const server = await startCriServer(config, flags.socket, createLogger(config.logLevel));
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await server.close();
  }
}
