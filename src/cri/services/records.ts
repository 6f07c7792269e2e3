import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * JSON records on disk, one file per object, so pods and containers survive a restart of the
 * server. Writes go to a temporary file renamed into place: a crash never leaves half a record.
 */
export class RecordStore<T> {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    // A temporary file is a write a crash cut short; the record it was replacing is still whole.
    for (const name of readdirSync(dir)) if (name.endsWith('.json.tmp')) rmSync(join(dir, name), { force: true });
  }

  loadAll(): T[] {
    const out: T[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.json')) continue;
      try {
        out.push(JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as T);
      } catch {
        // A record that cannot be read is skipped; the rest of the node keeps working.
      }
    }
    return out;
  }

  save(id: string, record: T): void {
    const path = join(this.dir, `${id}.json`);
    writeFileSync(`${path}.tmp`, JSON.stringify(record));
    renameSync(`${path}.tmp`, path);
  }

  remove(id: string): void {
    rmSync(join(this.dir, `${id}.json`), { force: true });
  }
}
