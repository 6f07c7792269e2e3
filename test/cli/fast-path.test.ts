import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const bin = new URL('../../../bin/sifkube.js', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
  oclif: { topics: Record<string, unknown> };
};

test('--version prints the package version in oclif format', () => {
  const out = execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
  assert.match(out, new RegExp(`^sifkube/${pkg.version.replace(/\./g, '\\.')} linux-x64 node-v\\d+`));
});

test('--help lists the topics that have commands', () => {
  const out = execFileSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  assert.match(out, /USAGE\n {2}\$ sifkube \[COMMAND\]/);
  const manifest = JSON.parse(readFileSync(new URL('../../../oclif.manifest.json', import.meta.url), 'utf8')) as {
    commands: Record<string, unknown>;
  };
  for (const id of Object.keys(manifest.commands)) {
    const shown = id.includes(':') ? id.split(':')[0] : id;
    assert.match(out, new RegExp(`\\n {2}${shown} `), `help shows ${shown}`);
  }
});

test('an unknown command fails with a non-zero exit and names it', () => {
  try {
    execFileSync(process.execPath, [bin, 'no-such-command'], { encoding: 'utf8', stdio: 'pipe' });
    assert.unreachable('should have failed');
  } catch (e) {
    const err = e as { status: number; stderr: string };
    assert.ok(err.status !== 0);
    assert.match(err.stderr, /no-such-command/);
  }
});

test.run();
