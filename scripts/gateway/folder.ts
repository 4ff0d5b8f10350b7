// The scan folder a scanner (or its export job) writes: every scan is a sidecar `<name>.json` with the
// scan's metadata plus its images, `<name>.<ext>` or `<name>_high.<ext>` + `<name>_low.<ext>` for dual
// energy. The sidecar is written last (write `<name>.json.tmp`, then rename): its presence means the scan
// is complete.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const IMAGE_EXTENSIONS = ['png', 'tif', 'tiff', 'jpg', 'jpeg', 'dcm', 'dicom'] as const;

export interface FolderScan {
  name: string;
  sidecarPath: string;
  /** Metadata to send: the sidecar's JSON; `scanId` defaults to the name. */
  metadata: Record<string, unknown>;
  images: Partial<Record<'image' | 'high' | 'low', string>>;
  contentHash: string;
}

export type FolderProblem = { name: string; problem: string };

const SIDE = /^(.*)_(high|low)$/;

async function fileHash(path: string, hash: ReturnType<typeof createHash>): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/** Lists complete scans in name order, and the sidecars that cannot be pushed (with why). */
export async function listScans(dir: string): Promise<{ scans: FolderScan[]; problems: FolderProblem[] }> {
  const files = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isFile() && !d.name.startsWith('.')).map((d) => d.name);
  const images = new Map<string, Partial<Record<'image' | 'high' | 'low', string>>>();
  for (const f of files) {
    const dot = f.lastIndexOf('.');
    if (dot < 1 || !(IMAGE_EXTENSIONS as readonly string[]).includes(f.slice(dot + 1).toLowerCase())) continue;
    const stem = f.slice(0, dot);
    const side = SIDE.exec(stem);
    const [name, role] = side ? [side[1]!, side[2] as 'high' | 'low'] : [stem, 'image' as const];
    images.set(name, { ...images.get(name), [role]: join(dir, f) });
  }
  const scans: FolderScan[] = [];
  const problems: FolderProblem[] = [];
  for (const f of files.filter((x) => x.endsWith('.json')).sort()) {
    const name = f.slice(0, -'.json'.length);
    const sidecarPath = join(dir, f);
    const raw = await readFile(sidecarPath);
    let metadata: Record<string, unknown>;
    try {
      const parsed = JSON.parse(raw.toString('utf8')) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      metadata = { scanId: name, ...(parsed as Record<string, unknown>) };
    } catch (err) {
      problems.push({ name, problem: `sidecar ${f} is not a JSON object (${(err as Error).message})` });
      continue;
    }
    const found = images.get(name) ?? {};
    const set = found.image ? { image: found.image } : found.high && found.low ? { high: found.high, low: found.low } : null;
    if (!set) {
      problems.push({ name, problem: `no image for ${f}: expected ${name}.<ext> or ${name}_high.<ext> + ${name}_low.<ext> (${IMAGE_EXTENSIONS.join(', ')})` });
      continue;
    }
    const hash = createHash('sha256').update(raw);
    for (const role of ['image', 'high', 'low'] as const) {
      const p = set[role as keyof typeof set] as string | undefined;
      if (p) {
        hash.update(`\n${role}\n`);
        await fileHash(p, hash);
      }
    }
    scans.push({ name, sidecarPath, metadata, images: set, contentHash: hash.digest('hex') });
  }
  return { scans, problems };
}
