import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ResetRefused } from './reset-refused.js';

/**
 * The file that marks a data folder as the example's own. Written when the example creates the
 * folder, or starts using one it found empty; `--reset` deletes nothing where it is missing.
 */
export const DATA_MARKER = '.annals-bank-account-example';

interface Marker {
  /** The example created the folder itself (reset deletes it), rather than finding it empty. */
  readonly createdFolder: boolean;
}

/**
 * Makes `dir` the example's data folder: creates and marks it when it does not exist, marks it when
 * it is empty, and leaves a folder with content as it is (it keeps working, but `--reset` refuses it
 * unless it carries the marker).
 */
export async function claimDataFolder(dir: string): Promise<void> {
  const entries = await entriesOf(dir);
  if (entries === undefined) {
    await mkdir(dir, { recursive: true });
    await writeMarker(dir, { createdFolder: true });
  } else if (entries.length === 0) {
    await writeMarker(dir, { createdFolder: false });
  }
}

/**
 * Deletes what the example created in `dir`: the folder itself when the example created it, else
 * everything in it but the marker. Returns the paths deleted (none when there is no folder, or an
 * empty one). Throws {@link ResetRefused}, deleting nothing, for a folder with content and no marker.
 */
export async function resetDataFolder(dir: string): Promise<string[]> {
  const entries = await entriesOf(dir);
  if (entries === undefined || entries.length === 0) return [];
  const marker = await readMarker(dir);
  if (marker === undefined) {
    throw new ResetRefused(
      `--reset refused: ${dir} has no ${DATA_MARKER} file, so the example did not create it, and nothing was deleted. ` +
        'Point --data at a folder the example created (or a new one), or delete this one yourself if it is no longer needed.',
    );
  }
  if (marker.createdFolder) {
    await rm(dir, { recursive: true, force: true });
    return [dir];
  }
  const deleted = entries.filter((entry) => entry !== DATA_MARKER).map((entry) => join(dir, entry));
  for (const path of deleted) await rm(path, { recursive: true, force: true });
  return deleted;
}

/** The names in `dir`, or undefined when it does not exist. */
async function entriesOf(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function writeMarker(dir: string, marker: Marker): Promise<void> {
  const text = {
    note: 'Created by the Annals bank-account example; `pnpm example -- --reset` deletes what it created here.',
    ...marker,
  };
  await writeFile(join(dir, DATA_MARKER), `${JSON.stringify(text, null, 2)}\n`);
}

/** The marker of `dir`, or undefined when it has none (or not one the example wrote). */
async function readMarker(dir: string): Promise<Marker | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, DATA_MARKER), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as { createdFolder?: unknown };
    return typeof parsed.createdFolder === 'boolean' ? { createdFolder: parsed.createdFolder } : undefined;
  } catch {
    return undefined;
  }
}
