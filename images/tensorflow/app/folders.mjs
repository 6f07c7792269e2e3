// The host folders: every picture dropped in IN_DIR gets NAME.annotated.png (its boxes drawn) and
// NAME.json (the labels) in OUT_DIR; a file that is not a picture gets NAME.error.txt saying why.
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, parse } from 'node:path';
import { annotate, decodeImage } from './image.mjs';

const POLL_MS = 1000;

function writeAtomic(path, data) {
  writeFileSync(`${path}.part`, data);
  renameSync(`${path}.part`, path);
}

async function processOne(inDir, outDir, name, classify) {
  const base = parse(name).name;
  try {
    const image = decodeImage(readFileSync(join(inDir, name)));
    const result = await classify(image);
    writeAtomic(join(outDir, `${base}.annotated.png`), annotate(image, result.labels));
    writeAtomic(join(outDir, `${base}.json`), `${JSON.stringify({ file: name, ...result }, null, 2)}\n`);
    console.log(`${name}: ${result.labels.map((l) => `${l.label} ${l.score}`).join(', ') || 'nothing found'}`);
  } catch (err) {
    writeAtomic(join(outDir, `${base}.error.txt`), `${name}: ${err.message}\n`);
  }
}

/** Polls (a hostPath on any filesystem; inotify does not cross every mount) and handles new files one by one. */
export function watchFolder(inDir, outDir, classify) {
  const done = (name) => {
    const base = parse(name).name;
    return existsSync(join(outDir, `${base}.json`)) || existsSync(join(outDir, `${base}.error.txt`));
  };
  const tick = async () => {
    try {
      for (const name of readdirSync(inDir).sort()) {
        const st = statSync(join(inDir, name));
        // A file written in the last second may still be growing: next round.
        if (name.startsWith('.') || name.endsWith('.part') || !st.isFile() || Date.now() - st.mtimeMs < POLL_MS || done(name)) continue;
        await processOne(inDir, outDir, name, classify);
      }
    } catch (err) {
      console.error(`watching ${inDir}: ${err.message}`);
    }
    setTimeout(tick, POLL_MS).unref();
  };
  console.log(`watching ${inDir} for pictures, writing to ${outDir}`);
  void tick();
}
