// Writes oclif.manifest.json from the compiled commands, so oclif loads only the command it runs.
import { Config } from '@oclif/core';
import { writeFileSync, rmSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const file = new URL('oclif.manifest.json', root);
rmSync(file, { force: true });
const config = await Config.load(root.pathname);
const manifest = config.getPluginsList().find((p) => p.type === 'core')?.manifest;
if (!manifest) throw new Error('oclif found no core plugin in package.json');
writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`oclif.manifest.json: ${Object.keys(manifest.commands).length} commands`);
