import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file is test/helpers/shared.ts). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Shared benchmark data: ROBOT_NAS_DATA, else ../shared/data next to the repository. */
export const SHARED_DATA = process.env.ROBOT_NAS_DATA ?? resolve(REPO, '..', 'shared', 'data');
/** Reference metric fixtures computed with PyTorch. */
export const FIXTURES = resolve(REPO, '..', 'shared', 'fixtures', 'metrics');

if (!existsSync(SHARED_DATA)) {
  throw new Error(`shared data not found at ${SHARED_DATA}; set ROBOT_NAS_DATA or place shared/ next to the repository`);
}
