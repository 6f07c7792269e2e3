// Mutation fuzzing of the SIF reader: seeded, so every failure names an input that can be replayed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bufferSource, D, DESCRIPTOR_SIZE, descriptorJson, formatHeader, formatInfo, formatList, headerJson, parseSif, SifError } from '../../src/sif/index.js';
import { FIXTURE_NAMES, FIXTURES } from './sif.js';

/** xorshift32: small, fast and deterministic. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const INTERESTING = [0n, 1n, -1n, 127n, 128n, 585n, 4096n, 32176n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 2n ** 53n + 1n, 2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n];
const HEADER_INT64 = [64, 72, 80, 88, 96, 104, 112, 120];
const DESC_INT64 = [D.offset, D.size, D.sizeWithPadding, D.createdAt, D.modifiedAt];
const DESC_INT32 = [D.dataType, D.id, D.groupId, D.linkedId, D.extra, D.extra + 4];

function mutate(src: Buffer, r: () => number): Buffer {
  const buf = Buffer.from(src);
  const pick = (n: number) => Math.floor(r() * n);
  const slot = 4096 + pick(4) * DESCRIPTOR_SIZE;
  const rounds = 1 + pick(3);
  for (let i = 0; i < rounds; i++) {
    switch (pick(6)) {
      case 0: // flip bytes in the header
        buf[pick(128)] ^= 1 << pick(8);
        break;
      case 1: // flip bytes in the first descriptors
        if (slot + DESCRIPTOR_SIZE <= buf.length) buf[slot + pick(DESCRIPTOR_SIZE)] ^= 1 << pick(8);
        break;
      case 2: // an interesting value in a header field
        buf.writeBigInt64LE(INTERESTING[pick(INTERESTING.length)], HEADER_INT64[pick(HEADER_INT64.length)]);
        break;
      case 3: {
        // an interesting value in a descriptor field
        if (slot + DESCRIPTOR_SIZE > buf.length) break;
        const v = INTERESTING[pick(INTERESTING.length)];
        if (r() < 0.5) buf.writeBigInt64LE(v, slot + DESC_INT64[pick(DESC_INT64.length)]);
        else buf.writeUInt32LE(Number(BigInt.asUintN(32, v)), slot + DESC_INT32[pick(DESC_INT32.length)]);
        break;
      }
      case 4: // truncate
        return buf.subarray(0, pick(buf.length));
      default: // random bytes anywhere
        for (let k = 0; k < 4; k++) buf[pick(buf.length)] = pick(256);
    }
  }
  return buf;
}

export interface FuzzResult {
  inputs: number;
  accepted: number;
  rejected: number;
  /** Uncaught, non-SifError exceptions: each a seed and message. */
  crashes: string[];
}

/** Mutates every fixture `perFixture`... in turn until `inputs` inputs have been parsed. */
export function fuzzSif(inputs: number, seed = 1): FuzzResult {
  const fixtures = FIXTURE_NAMES.map((n) => ({ name: n, data: readFileSync(join(FIXTURES, n)) }));
  const result: FuzzResult = { inputs, accepted: 0, rejected: 0, crashes: [] };
  const r = rng(seed);
  for (let i = 0; i < inputs; i++) {
    const f = fixtures[i % fixtures.length];
    const input = mutate(f.data, r);
    try {
      const image = parseSif(bufferSource(f.name, input));
      formatHeader(image);
      formatList(image);
      headerJson(image);
      for (const d of image.descriptors) {
        formatInfo(d);
        descriptorJson(d);
      }
      result.accepted++;
    } catch (err) {
      if (err instanceof SifError && !err.message.includes('\n')) result.rejected++;
      else result.crashes.push(`input ${i} (seed ${seed}, ${f.name}): ${(err as Error).stack ?? err}`);
    }
  }
  return result;
}
