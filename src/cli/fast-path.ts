import { readFileSync } from 'node:fs';
import { arch, platform } from 'node:os';

interface ManifestCommand {
  id: string;
  description?: string;
  summary?: string;
  hidden?: boolean;
}

interface PackageJson {
  name: string;
  version: string;
  description: string;
  oclif: { topics?: Record<string, { description: string }> };
}

/** The version line, in oclif's format: `sifkube/0.1.0 linux-x64 node-v20.20.2`. */
export function versionLine(pkg: PackageJson): string {
  return `${pkg.name}/${pkg.version} ${platform()}-${arch()} node-${process.version}`;
}

/** The top-level help: topics and commands that have no topic, read from the manifest. */
export function rootHelp(pkg: PackageJson, commands: ManifestCommand[]): string {
  const topics = pkg.oclif.topics ?? {};
  const rows: [string, string][] = [];
  for (const [name, topic] of Object.entries(topics)) {
    if (commands.some((c) => c.id.startsWith(`${name}:`))) rows.push([name, topic.description]);
  }
  for (const c of commands) {
    if (c.hidden || c.id.includes(':')) continue;
    rows.push([c.id, (c.summary ?? c.description ?? '').split('\n')[0]]);
  }
  rows.sort((a, b) => a[0].localeCompare(b[0]));
  const width = Math.max(...rows.map((r) => r[0].length), 0) + 2;
  return [
    pkg.description,
    '',
    'VERSION',
    `  ${versionLine(pkg)}`,
    '',
    'USAGE',
    `  $ ${pkg.name} [COMMAND]`,
    '',
    'COMMANDS',
    ...rows.map(([name, text]) => `  ${name.padEnd(width)}${text}`),
    '',
  ].join('\n');
}

/**
 * Answers `--version`, `-v`, `version`, `--help`, `-h` and no arguments at all without loading oclif.
 * Returns false when oclif must handle the command line.
 */
export async function fastPath(argv: string[], root: URL): Promise<boolean> {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as PackageJson;
  if (argv.length === 1 && ['--version', '-v', 'version'].includes(argv[0])) {
    process.stdout.write(`${versionLine(pkg)}\n`);
    return true;
  }
  if (argv.length === 0 || (argv.length === 1 && ['--help', '-h', 'help'].includes(argv[0]))) {
    let manifest: { commands: Record<string, ManifestCommand> };
    try {
      manifest = JSON.parse(readFileSync(new URL('oclif.manifest.json', root), 'utf8')) as typeof manifest;
    } catch {
      return false;
    }
    process.stdout.write(rootHelp(pkg, Object.values(manifest.commands)));
    return true;
  }
  return false;
}
