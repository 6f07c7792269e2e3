// The text of `sif list|info|header` follows siftool's layout exactly (its golden outputs for the
// same fixtures, sylabs/sif internal/app/siftool/testdata), and --json carries the same facts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatHeader, formatInfo, formatList, readSif, readableSize, goTime } from '../../src/sif/index.js';
import { cli, fixture } from '../helpers/sif.js';

const RULE = '------------------------------------------------------------------------------';

test('list of one OCI blob matches siftool golden output', () => {
  assert.is(
    formatList(readSif(fixture('one-object-oci-blob.sif'))),
    `${RULE}\nID   |GROUP   |LINK    |SIF POSITION (start-end)  |TYPE\n${RULE}\n1    |1       |NONE    |32176-33023               |OCI.Blob\n`,
  );
});

test('list shows groups, group links, partitions and signature hashes like siftool', () => {
  const out = formatList(readSif(fixture('two-groups-signed-pgp.sif'))).split('\n').slice(3);
  assert.equal(out, [
    '1    |1       |NONE    |32768-32772               |FS (Raw/System/386)',
    '2    |1       |NONE    |36864-40960               |FS (Squashfs/*System/386)',
    '3    |2       |NONE    |40960-303104              |FS (Ext3/System/amd64)',
    '4    |NONE    |1   (G) |303104-304152             |Signature (SHA-256)',
    '5    |NONE    |2   (G) |304152-305001             |Signature (SHA-256)',
    '',
  ]);
});

test('header of a deterministic image leaves out times, nil ID and unknown arch, like siftool', () => {
  assert.is(
    formatHeader(readSif(fixture('one-object-oci-root-index.sif'))),
    'Version:            01\nDescriptors Free:   47\nDescriptors Total:  48\nDescriptors Offset: 4096\nDescriptors Size:   27 KiB\nData Offset:        32176\nData Size:          706 B\n',
  );
});

test('header with launch script, ID, arch and times', () => {
  assert.is(
    formatHeader(readSif(fixture('one-group-signed-legacy.sif'))),
    [
      'Launch Script:        #!/usr/bin/env run-singularity',
      'Version:              01',
      'Primary Architecture: 386',
      'ID:                   6ecc76b7-a497-4f7f-9ebd-8da2a04c6be1',
      'Created At:           2020-05-22 19:30:59 +0000 UTC',
      'Modified At:          2020-06-20 20:16:39 +0000 UTC',
      'Descriptors Free:     45',
      'Descriptors Total:    48',
      'Descriptors Offset:   4096',
      'Descriptors Size:     27 KiB',
      'Data Offset:          32768',
      'Data Size:            9 KiB',
      '',
    ].join('\n'),
  );
});

test('info of an OCI blob matches siftool golden layout, with the digest', () => {
  const d = readSif(fixture('one-object-oci-blob.sif')).descriptors[0];
  assert.is(
    formatInfo(d),
    '  Data Type:  OCI.Blob\n  ID:         1\n  Group ID:   1\n  Linked ID:  NONE\n  Offset:     32176\n  Size:       847\n  Digest:     sha256:a88b15e95042f7d5a1327c03c57e10bdc1cf5f5efc2968fc73c12b6f5b00c731\n',
  );
});

test('info of a signature shows hash, entity, name and times', () => {
  const d = readSif(fixture('one-group-signed-legacy.sif')).descriptors[2];
  const out = formatInfo(d);
  assert.match(out, /^ {2}Data Type: {4}Signature$/m);
  assert.match(out, /^ {2}Linked ID: {4}2$/m);
  assert.match(out, /^ {2}Name: {9}part-signature$/m);
  assert.match(out, /^ {2}Hash Type: {4}SHA-384$/m);
  assert.match(out, /^ {2}Entity: {7}12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84$/m);
  assert.match(out, /^ {2}Created At: {3}2020-06-20 20:16:39 \+0000 UTC$/m);
});

test('info of crypto message and SBOM objects', () => {
  assert.match(formatInfo(readSif(fixture('one-object-crypt-message.sif')).descriptors[0]), /Format Type: {3}OpenPGP\n {2}Message Type: {2}Clear Signature\n$/);
  assert.match(formatInfo(readSif(fixture('one-object-sbom.sif')).descriptors[0]), /Format: {5}cyclonedx-json\n$/);
});

test('sizes and times are printed as Go prints them', () => {
  assert.is(readableSize(707), '707 B');
  assert.is(readableSize(28080), '27 KiB');
  assert.is(readableSize(1536 * 1024), '2 MiB');
  assert.is(readableSize(4 * 1024 ** 3), '4 GiB');
  assert.is(goTime(0), '1970-01-01 00:00:00 +0000 UTC');
});

test('CLI list/info/header print the same text, and --json the same facts', () => {
  const file = fixture('two-groups-signed-dsse.sif');
  const image = readSif(file);
  assert.is(cli('sif', 'list', file).stdout, formatList(image));
  assert.is(cli('sif', 'header', file).stdout, formatHeader(image));
  assert.is(cli('sif', 'info', file, '3').stdout, formatInfo(image.descriptors[2]));
  const list = JSON.parse(cli('sif', 'list', file, '--json').stdout) as { id: number; group: number | null; link: { id: number; isGroup: boolean } | null; partition?: { fsType: string; partType: string; arch: string } }[];
  assert.equal(list.map((d) => d.id), [1, 2, 3, 4, 5]);
  assert.equal(list[2].partition, { fsType: 'Ext3', partType: 'System', arch: 'amd64' });
  assert.equal(list[4].link, { id: 2, isGroup: true });
  assert.is(list[4].group, null);
  const header = JSON.parse(cli('sif', 'header', file, '--json').stdout) as { primaryArch: string; descriptorsFree: number; createdAt: string | null };
  assert.is(header.primaryArch, '386');
  assert.is(header.descriptorsFree, 43);
  assert.is(header.createdAt, null);
  const info = JSON.parse(cli('sif', 'info', file, '4', '--json').stdout) as { signature: { hashType: string } };
  assert.is(info.signature.hashType, 'SHA-256');
});

test('CLI dump writes exactly the object bytes', () => {
  const r = cli('sif', 'dump', fixture('one-object-sbom.sif'), '1');
  assert.is(r.status, 0);
  assert.is(r.stdout.length, 32630 - 32176);
  assert.ok(r.stdout.includes('CycloneDX') || r.stdout.startsWith('{'));
});

test.run();
