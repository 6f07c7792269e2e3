/**
 * Singularity definition files: a header of `Key: value` lines (`Bootstrap:` first), then sections
 * (`%post`, `%files from STAGE`, ...). A later `Bootstrap:` line starts another stage of a
 * multi-stage build; the last stage is the image. Every error names the file and the line.
 */
import { DefinitionError } from './errors.js';

export const AGENTS = ['localimage', 'scratch', 'docker', 'oci', 'debootstrap'] as const;
export type Agent = (typeof AGENTS)[number];

export const SECTIONS = ['arguments', 'setup', 'files', 'post', 'environment', 'runscript', 'startscript', 'labels', 'help', 'test'] as const;
export type SectionName = (typeof SECTIONS)[number];
type ScriptName = 'setup' | 'post' | 'environment' | 'runscript' | 'startscript' | 'help' | 'test';

/** Header keys each agent reads (lower case; the file may write them in any case). */
const HEADER_KEYS: Record<Agent, string[]> = {
  localimage: ['from'],
  scratch: [],
  docker: ['from', 'includecmd'],
  oci: ['from', 'includecmd'],
  debootstrap: ['osversion', 'mirrorurl', 'include'],
};
const REQUIRED_KEYS: Partial<Record<Agent, string[]>> = { localimage: ['from'], docker: ['from'], oci: ['from'], debootstrap: ['osversion'] };
/** Singularity's agents sifkube does not have, to say so rather than "unknown". */
const OTHER_AGENTS = ['library', 'shub', 'oras', 'yum', 'zypper', 'busybox', 'arch', 'docker-daemon', 'docker-archive', 'oci-archive'];

export interface Script {
  body: string;
  /** `-c INTERPRETER` of %setup, %post, %test (default /bin/sh). */
  interpreter?: string;
  line: number;
}

export interface FileCopy {
  src: string;
  dest: string;
  line: number;
}

export interface FilesSection {
  /** `%files from STAGE`: copy out of that earlier stage's root filesystem, not the host. */
  from?: string;
  copies: FileCopy[];
  line: number;
}

export interface Stage {
  /** `Stage:` name, or undefined. */
  name?: string;
  agent: Agent;
  /** Header values by lower-cased key, and the line of each. */
  header: Record<string, string>;
  headerLines: Record<string, number>;
  line: number;
  scripts: Partial<Record<ScriptName, Script>>;
  labels: { key: string; value: string; line: number }[];
  files: FilesSection[];
}

export interface Definition {
  file: string;
  /** The text as built (arguments substituted): stored in the image. */
  text: string;
  stages: Stage[];
}

function tokens(file: string, line: number, text: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  if ((text.match(/"/g) ?? []).length % 2 === 1) throw new DefinitionError(file, line, `"${text.trim()}" has an unbalanced quote`);
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

function newStage(file: string, line: number, value: string): Stage {
  const agent = value.trim().toLowerCase();
  if (!(AGENTS as readonly string[]).includes(agent)) {
    const why = OTHER_AGENTS.includes(agent) ? `sifkube does not have Singularity's "${agent}" bootstrap agent` : `"${value.trim()}" is not a bootstrap agent`;
    throw new DefinitionError(file, line, `${why}: use one of ${AGENTS.join(', ')}`);
  }
  return { agent: agent as Agent, header: { bootstrap: agent }, headerLines: { bootstrap: line }, line, scripts: {}, labels: [], files: [] };
}

function sectionHeader(file: string, line: number, stage: Stage, name: string, args: string): void {
  const argv = tokens(file, line, args);
  if (name === 'files') {
    if (argv.length === 0) stage.files.push({ copies: [], line });
    else if (argv.length === 2 && argv[0] === 'from') stage.files.push({ from: argv[1], copies: [], line });
    else throw new DefinitionError(file, line, `%files takes no argument or "from STAGE", not "${args.trim()}"`);
    return;
  }
  if (name === 'labels' || name === 'arguments') {
    if (argv.length > 0) throw new DefinitionError(file, line, `%${name} takes no arguments, not "${args.trim()}"`);
    return;
  }
  const s = name as ScriptName;
  if (stage.scripts[s]) throw new DefinitionError(file, line, `%${name} appears twice in this stage (first at line ${stage.scripts[s].line}): merge them into one`);
  let interpreter: string | undefined;
  if (argv.length > 0) {
    if (!['setup', 'post', 'test'].includes(name) || argv.length !== 2 || argv[0] !== '-c') {
      throw new DefinitionError(file, line, `%${name} ${args.trim()}: only %setup, %post and %test take an argument, "-c INTERPRETER" (for example -c /bin/bash)`);
    }
    interpreter = argv[1];
  }
  stage.scripts[s] = { body: '', interpreter, line };
}

function bodyLine(file: string, line: number, stage: Stage, section: string, text: string): void {
  const t = text.trim();
  if (section === 'files') {
    if (t === '' || t.startsWith('#')) return;
    const argv = tokens(file, line, t);
    if (argv.length > 2) throw new DefinitionError(file, line, `%files: "${t}" has ${argv.length} paths: write SOURCE [DESTINATION] (quote a path with spaces)`);
    stage.files[stage.files.length - 1].copies.push({ src: argv[0], dest: argv[1] ?? argv[0], line });
    return;
  }
  if (section === 'labels') {
    if (t === '' || t.startsWith('#')) return;
    const m = /^(\S+)\s+(.*)$/.exec(t);
    if (!m) throw new DefinitionError(file, line, `%labels: "${t}" has no value: write KEY VALUE`);
    stage.labels.push({ key: m[1], value: m[2].trim().replace(/^"(.*)"$/, '$1'), line });
    return;
  }
  if (section === 'arguments') return; // read by substituteArgs
  const s = stage.scripts[section as ScriptName]!;
  s.body += `${text}\n`;
}

function checkStage(file: string, stage: Stage, names: Set<string>): void {
  const allowed = ['bootstrap', 'stage', ...HEADER_KEYS[stage.agent]];
  for (const key of REQUIRED_KEYS[stage.agent] ?? []) {
    if (!stage.header[key]) throw new DefinitionError(file, stage.line, `Bootstrap: ${stage.agent} needs a "${key === 'osversion' ? 'OSVersion' : 'From'}:" line in its header`);
  }
  for (const k of Object.keys(stage.header)) if (!allowed.includes(k)) throw new DefinitionError(file, stage.headerLines[k], `header key "${k}" means nothing to Bootstrap: ${stage.agent}: it reads ${allowed.join(', ')}`);
  for (const f of stage.files) {
    if (f.from !== undefined && !names.has(f.from)) throw new DefinitionError(file, f.line, `%files from ${f.from}: no earlier stage is named ${f.from}: name one with "Stage: ${f.from}" in its header`);
  }
  for (const s of Object.values(stage.scripts)) s.body = s.body.replace(/\n+$/, '\n');
}

/** Parses definition text (arguments already substituted); `file` names it in errors. */
export function parseDefinition(file: string, text: string): Definition {
  const stages: Stage[] = [];
  let stage: Stage | undefined;
  let section: string | undefined;
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = i + 1;
    const text = raw.replace(/\r$/, '');
    const sec = /^%([A-Za-z][\w-]*)(?:\s+(.*))?$/.exec(text);
    if (sec) {
      const name = sec[1].toLowerCase();
      if (!stage) throw new DefinitionError(file, line, `section %${name} before any "Bootstrap:" line: a definition starts with its header (Bootstrap: ...)`);
      if (name.startsWith('app')) throw new DefinitionError(file, line, `%${name}: SCIF apps are not supported: put the app's commands in %post and %runscript`);
      if (!(SECTIONS as readonly string[]).includes(name)) throw new DefinitionError(file, line, `%${name} is not a section: use one of ${SECTIONS.map((s) => `%${s}`).join(' ')}`);
      section = name;
      sectionHeader(file, line, stage, name, sec[2] ?? '');
      return;
    }
    const header = /^([A-Za-z][\w-]*)\s*:\s*(.*)$/.exec(text);
    if (header && header[1].toLowerCase() === 'bootstrap') {
      stage = newStage(file, line, header[2]);
      stages.push(stage);
      section = undefined;
      return;
    }
    if (section && stage) {
      bodyLine(file, line, stage, section, text);
      return;
    }
    const t = text.trim();
    if (t === '' || t.startsWith('#')) return;
    if (!header) throw new DefinitionError(file, line, stage ? `"${t}" is not a header line: write Key: value` : `"${t}": a definition starts with its header, "Bootstrap: AGENT" first (${AGENTS.join(', ')})`);
    if (!stage) throw new DefinitionError(file, line, `"${header[1]}:" before "Bootstrap:": the first header line is Bootstrap: AGENT`);
    const key = header[1].toLowerCase();
    if (stage.header[key] !== undefined) throw new DefinitionError(file, line, `header key ${header[1]} is given twice in this stage`);
    stage.header[key] = header[2].trim();
    stage.headerLines[key] = line;
    if (key === 'stage') stage.name = header[2].trim();
  });
  if (stages.length === 0) throw new DefinitionError(file, 1, `no "Bootstrap:" line: a definition starts with Bootstrap: AGENT (${AGENTS.join(', ')})`);
  const names = new Set<string>();
  for (const s of stages) {
    checkStage(file, s, names);
    if (s.name !== undefined) {
      if (names.has(s.name)) throw new DefinitionError(file, s.line, `two stages are named ${s.name}: give each its own Stage: name`);
      names.add(s.name);
    }
  }
  return { file, text, stages };
}
