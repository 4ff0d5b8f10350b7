// The gateway's local journal: one JSON line per scan the API has answered for, appended and fsynced
// before the next push, so a restart knows what is done. A torn last line (a crash mid-write) is ignored:
// that scan is pushed again and the API, idempotent on scanId + content, answers with the stored scan.
import { open, readFile } from 'node:fs/promises';

export interface JournalEntry {
  /** The scan's name in the folder (the sidecar's file name without `.json`). */
  name: string;
  scanId: string;
  /** sha256 over the sidecar and the image files: a changed scan under the same name is pushed again. */
  contentHash: string;
  outcome: 'stored' | 'rejected';
  /** HTTP status of the answer (202 new, 200 already stored, 4xx rejected). */
  status: number;
  code?: string;
  message?: string;
  at: string;
}

export class Journal {
  private constructor(
    readonly path: string,
    private readonly done: Map<string, JournalEntry>,
  ) {}

  static async open(path: string): Promise<Journal> {
    const done = new Map<string, JournalEntry>();
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as JournalEntry;
        if (typeof e.name === 'string' && typeof e.contentHash === 'string') done.set(`${e.name}\n${e.contentHash}`, e);
      } catch {
        // A torn line from a crash: the scan it named is simply pushed again.
      }
    }
    return new Journal(path, done);
  }

  has(name: string, contentHash: string): boolean {
    return this.done.has(`${name}\n${contentHash}`);
  }

  get size(): number {
    return this.done.size;
  }

  entries(): JournalEntry[] {
    return [...this.done.values()];
  }

  /** Appends and fsyncs one entry; resolves once it is on disk. */
  async append(entry: JournalEntry): Promise<void> {
    const fh = await open(this.path, 'a+');
    try {
      // After a torn line (a crash mid-write) the next entry starts on a fresh line.
      const size = (await fh.stat()).size;
      const prefix = size > 0 && !(await endsWithNewline(fh, size)) ? '\n' : '';
      await fh.write(`${prefix}${JSON.stringify(entry)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    this.done.set(`${entry.name}\n${entry.contentHash}`, entry);
  }
}

async function endsWithNewline(fh: import('node:fs/promises').FileHandle, size: number): Promise<boolean> {
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, size - 1);
  return b[0] === 0x0a;
}
