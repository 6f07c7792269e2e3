import { Args, Flags } from '@oclif/core';
import { SifkubeCommand } from '../../cli/command.js';
import { listKeys } from '../../sif/index.js';

export default class KeyList extends SifkubeCommand {
  static summary = 'List the keys of a key folder (.key, .pub, .asc and .pem files)';
  static args = { dir: Args.string({ required: true, description: 'key folder' }) };
  static flags = { json: Flags.boolean({ description: 'print the keys as JSON' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(KeyList);
    const keys = await listKeys(args.dir);
    if (flags.json) return this.printJson(keys);
    if (keys.length === 0) return this.log(`no keys in ${args.dir}`);
    for (const k of keys) this.log(`${k.type.padEnd(8)}${(k.private ? 'private' : 'public').padEnd(9)}${k.fingerprint}  ${k.file}${k.users.length ? `  ${k.users.join(', ')}` : ''}`);
  }
}
