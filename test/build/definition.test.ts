// Definition files: the header, every section, build arguments, multi-stage builds, and bad lines
// refused with their file and line number.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DefinitionError, parseDefinition, substituteArgs } from '../../src/build/index.js';

const FULL = `# a comment before the header
Bootstrap: docker
From: debian:bookworm-slim
Stage: build

%setup
    touch \${SINGULARITY_ROOTFS}/setup-ran

%files
    app.tar.gz /opt/app.tar.gz
    "a file with spaces" /opt/spaced
    config.yaml

%post -c /bin/bash
    apt-get update
    echo done

Bootstrap: localimage
From: base.sif

%files from build
    /opt/app /opt/app

%environment
    export LANG=C.UTF-8

%runscript
    exec /opt/app/run "$@"

%startscript
    exec /opt/app/serve

%labels
    Author someone@example.org
    Version "1.2"

%help
    Runs the app.

%test
    /opt/app/run --version
`;

test('every section and header key of a two-stage definition', () => {
  const d = parseDefinition('app.def', FULL);
  assert.is(d.stages.length, 2);
  const [a, b] = d.stages;
  assert.is(a.agent, 'docker');
  assert.is(a.name, 'build');
  assert.equal(a.header, { bootstrap: 'docker', from: 'debian:bookworm-slim', stage: 'build' });
  assert.is(a.headerLines.from, 3);
  assert.is(a.scripts.setup?.body, '    touch ${SINGULARITY_ROOTFS}/setup-ran\n');
  assert.equal(a.files[0].copies.map((c) => [c.src, c.dest, c.line]), [['app.tar.gz', '/opt/app.tar.gz', 10], ['a file with spaces', '/opt/spaced', 11], ['config.yaml', 'config.yaml', 12]]);
  assert.is(a.scripts.post?.interpreter, '/bin/bash');
  assert.is(a.scripts.post?.body, '    apt-get update\n    echo done\n');
  assert.is(b.agent, 'localimage');
  assert.is(b.line, 18);
  assert.is(b.files[0].from, 'build');
  assert.is(b.scripts.environment?.body, '    export LANG=C.UTF-8\n');
  assert.is(b.scripts.runscript?.body, '    exec /opt/app/run "$@"\n');
  assert.is(b.scripts.startscript?.body, '    exec /opt/app/serve\n');
  assert.equal(b.labels.map((l) => [l.key, l.value]), [['Author', 'someone@example.org'], ['Version', '1.2']]);
  assert.is(b.scripts.help?.body, '    Runs the app.\n');
  assert.is(b.scripts.test?.body, '    /opt/app/run --version\n');
  assert.is(d.text, FULL);
});

test('header keys in any case; scratch and debootstrap headers', () => {
  const d = parseDefinition('x.def', 'BootStrap: Debootstrap\nOSVersion: bookworm\nmirrorurl: http://deb.debian.org/debian\nInclude: curl ca-certificates\n');
  assert.is(d.stages[0].agent, 'debootstrap');
  assert.equal(d.stages[0].header, { bootstrap: 'debootstrap', osversion: 'bookworm', mirrorurl: 'http://deb.debian.org/debian', include: 'curl ca-certificates' });
  assert.is(parseDefinition('s.def', 'Bootstrap: scratch\n').stages[0].agent, 'scratch');
});

test('{{ VAR }} from --build-arg, else the %arguments default; unused arguments are reported', () => {
  const text = 'Bootstrap: docker\nFrom: debian:{{ SUITE }}\n\n%arguments\n    SUITE=bookworm\n    GREETING="hello there"\n\n%post\n    echo {{GREETING}} {{ SUITE }}\n';
  const def = substituteArgs('a.def', text, {});
  assert.match(def.text, /From: debian:bookworm\n/);
  assert.match(def.text, /echo hello there bookworm/);
  const given = substituteArgs('a.def', text, { SUITE: 'trixie', OTHER: 'x' });
  assert.match(given.text, /From: debian:trixie\n/);
  assert.equal(given.unused, ['OTHER']);
  assert.is(parseDefinition('a.def', given.text).stages[0].header.from, 'debian:trixie');
});

/** The error a definition gets, as file:line: message. */
function refused(text: string, args: Record<string, string> = {}): DefinitionError {
  try {
    parseDefinition('bad.def', substituteArgs('bad.def', text, args).text);
  } catch (err) {
    assert.instance(err, DefinitionError);
    return err as DefinitionError;
  }
  throw new Error(`accepted: ${text}`);
}

test('bad definitions are refused naming the line and the fix', () => {
  const cases: [string, number, RegExp][] = [
    ['', 1, /no "Bootstrap:" line/],
    ['From: debian\nBootstrap: docker\n', 1, /before "Bootstrap:"/],
    ['Bootstrap: library\nFrom: x\n', 1, /does not have Singularity's "library" bootstrap agent: use one of localimage, scratch, docker, oci, debootstrap/],
    ['Bootstrap: nonsense\n', 1, /"nonsense" is not a bootstrap agent/],
    ['Bootstrap: docker\n', 1, /needs a "From:" line/],
    ['Bootstrap: debootstrap\nMirrorURL: http://x\n', 1, /needs a "OSVersion:" line/],
    ['Bootstrap: scratch\nFrom: x\n', 2, /header key "from" means nothing to Bootstrap: scratch/],
    ['Bootstrap: scratch\n\n%pots\n  echo\n', 3, /%pots is not a section/],
    ['Bootstrap: scratch\n%appinstall foo\n', 2, /SCIF apps are not supported/],
    ['Bootstrap: scratch\n%files\n  a b c\n', 3, /has 3 paths/],
    ['Bootstrap: scratch\n%files from nowhere\n  a b\n', 2, /no earlier stage is named nowhere/],
    ['Bootstrap: scratch\n%files into x\n', 2, /%files takes no argument or "from STAGE"/],
    ['Bootstrap: scratch\n%labels\n  lonely\n', 3, /"lonely" has no value: write KEY VALUE/],
    ['Bootstrap: scratch\n%post\n  a\n%post\n  b\n', 4, /%post appears twice in this stage \(first at line 2\)/],
    ['Bootstrap: scratch\n%runscript -c /bin/bash\n', 2, /only %setup, %post and %test take an argument/],
    ['Bootstrap: scratch\nthis is not a header\n', 2, /is not a header line: write Key: value/],
    ['Bootstrap: scratch\n%post\n  echo {{ MISSING }}\n', 3, /argument MISSING has no value: pass --build-arg MISSING=VALUE/],
    ['Bootstrap: scratch\n%arguments\n  not an assignment\n', 3, /is not NAME=VALUE/],
    ['Bootstrap: scratch\n%files\n  "unbalanced /x\n', 3, /unbalanced quote/],
    ['Bootstrap: scratch\nStage: a\nBootstrap: scratch\nStage: a\n', 3, /two stages are named a/],
    ['Bootstrap: scratch\nStage: a\n%files from b\n  /x\nBootstrap: scratch\nStage: b\n', 3, /no earlier stage is named b/],
  ];
  for (const [text, line, why] of cases) {
    const err = refused(text);
    assert.is(err.line, line, `${JSON.stringify(text)}: ${err.message}`);
    assert.match(err.message, why);
    assert.ok(err.message.startsWith(`bad.def:${line}: `), err.message);
    assert.is(err.exitCode, 100);
  }
});

test.run();
