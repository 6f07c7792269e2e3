// Every reference fixture is rebuilt with our writer from the facts our reader found, and must come
// out byte for byte identical: this checks reader and writer against the reference tool's output.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addObject, createSif, DataType, readObject, readSif, ZERO_TIME, type Descriptor, type SifImage } from '../../src/sif/index.js';
import { fixture, FIXTURE_NAMES, scratch } from '../helpers/sif.js';

function inputFor(image: SifImage, d: Descriptor, end: number) {
  return {
    dataType: d.dataType,
    data: readObject(image, d.id),
    name: d.name,
    group: d.group,
    link: d.link === 0 ? undefined : { id: d.link, isGroup: d.linkIsGroup },
    alignment: d.offset === end ? 1 : 4096,
    partition: d.partition,
    signature: d.signature ? { hashType: d.signature.hashType, fingerprint: d.signature.entity ? Buffer.from(d.signature.entity, 'hex') : undefined } : undefined,
    cryptoMessage: d.cryptoMessage,
    sbomFormat: d.sbomFormat,
    uid: d.uid,
    gid: d.gid,
  };
}

const at = (t: number) => ({ deterministic: t === ZERO_TIME, time: new Date(t * 1000) });

/** Rebuilds `image` into `out` with createSif + addObject, in slot order, with the original times. */
function rebuild(image: SifImage, out: string): void {
  const h = image.header;
  createSif(out, { launchScript: h.launchScript, id: h.id, descriptorsTotal: h.descriptorsTotal, descriptorsOffset: h.descriptorsOffset, dataOffset: h.dataOffset, ...at(h.createdAt) });
  let end = h.dataOffset;
  for (const d of image.descriptors) {
    addObject(out, inputFor(image, d, end), at(d.createdAt));
    end = d.offset + d.size;
  }
}

for (const name of FIXTURE_NAMES) {
  test(`${name}: rebuilt by our writer byte for byte`, () => {
    const s = scratch();
    try {
      const image = readSif(fixture(name));
      const out = join(s.dir, name);
      rebuild(image, out);
      const again = readSif(out);
      assert.equal(again.header, image.header, 'header facts');
      assert.equal(again.descriptors.map(({ extra, ...d }) => ({ ...d, extra: extra.toString('hex') })), image.descriptors.map(({ extra, ...d }) => ({ ...d, extra: extra.toString('hex') })), 'descriptor facts');
      assert.ok(readFileSync(out).equals(readFileSync(fixture(name))), 'identical bytes');
    } finally {
      s.done();
    }
  });
}

test('OCI objects get the sha256 digest of their data in the descriptor, as the reference library writes it', () => {
  for (const name of ['one-object-oci-blob.sif', 'one-object-oci-root-index.sif']) {
    const image = readSif(fixture(name));
    const d = image.descriptors[0];
    assert.ok(d.dataType === DataType.OCIBlob || d.dataType === DataType.OCIRootIndex);
    assert.match(d.ociDigest ?? '', /^sha256:[0-9a-f]{64}$/);
  }
});

test.run();
