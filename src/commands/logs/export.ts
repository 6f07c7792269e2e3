import { Args, Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { checkClusterName, exportLogs, readClusterState } from '../../cluster/index.js';
import { requireRoot } from '../../errors.js';

export default class LogsExport extends SifkubeCommand {
  static summary = "Copy every component's log and the node state into DIR/<cluster>/ (for bug reports; no private keys)";
  static args = { dir: Args.string({ description: 'folder to write into', required: true }) };
  static flags = { name: Flags.string({ description: 'cluster name', default: 'sifkube' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(LogsExport);
    requireRoot('sifkube logs export');
    const files = await exportLogs(readClusterState(checkClusterName(flags.name)), args.dir);
    this.log(`wrote ${files.length} files and folders under ${args.dir}/${flags.name}`);
  }
}
