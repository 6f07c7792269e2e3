/**
 * Build arguments: `{{ NAME }}` in a definition file is replaced by the value given with
 * `--build-arg NAME=VALUE`, else by the default from the file's `%arguments` section (Singularity 4's
 * templating). The whole file is substituted before it is parsed, so arguments work in headers too.
 */
import { DefinitionError } from './errors.js';

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `%arguments` defaults: `NAME=VALUE` lines of every such section, in file order. */
function defaults(file: string, lines: string[]): Map<string, string> {
  const out = new Map<string, string>();
  let inArgs = false;
  lines.forEach((line, i) => {
    if (/^%/.test(line)) inArgs = /^%arguments\s*$/.test(line);
    else if (/^bootstrap\s*:/i.test(line)) inArgs = false;
    else if (inArgs) {
      const t = line.trim();
      if (t === '' || t.startsWith('#')) return;
      const eq = t.indexOf('=');
      const name = eq < 0 ? t : t.slice(0, eq).trim();
      if (eq < 0 || !NAME.test(name)) throw new DefinitionError(file, i + 1, `%arguments: "${t}" is not NAME=VALUE: write one default per line, for example VERSION=1.0`);
      out.set(name, t.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
    }
  });
  return out;
}

export interface Substituted {
  text: string;
  /** Arguments given that the file never uses (Singularity warns about them too). */
  unused: string[];
}

/** The definition text with every `{{ NAME }}` replaced; a name with no value is an error naming its line. */
export function substituteArgs(file: string, text: string, args: Record<string, string>): Substituted {
  const lines = text.split('\n');
  const values = defaults(file, lines);
  for (const [k, v] of Object.entries(args)) values.set(k, v);
  const used = new Set<string>();
  const out = lines.map((line, i) =>
    line.replace(PLACEHOLDER, (_, name: string) => {
      if (!NAME.test(name)) throw new DefinitionError(file, i + 1, `"{{ ${name} }}" is not an argument name: use letters, digits and _`);
      const v = values.get(name);
      if (v === undefined) throw new DefinitionError(file, i + 1, `argument ${name} has no value: pass --build-arg ${name}=VALUE or give a default in %arguments`);
      used.add(name);
      return v;
    }),
  );
  return { text: out.join('\n'), unused: Object.keys(args).filter((k) => !used.has(k)) };
}
