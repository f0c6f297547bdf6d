import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/**
 * A maker of fresh temporary folders named `<prefix>XXXXXX` in the system temp folder; every folder
 * it made is removed when the test file ends. Call it at the top level of a test file.
 */
export function tempDirs(prefix: string): () => string {
  const made: string[] = [];
  after(() => {
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    made.push(d);
    return d;
  };
}
