/**
 * An export folder is ours when its sample-logits.json is one robot-nas wrote (its producer, its shape, and the
 * SHA-256 of every other file of the export) and the folder holds only those files, unchanged (util/owned-folder).
 */
import { SAMPLE_LOGITS_FILE } from './bundle.js';
import { claimByManifest, type FolderOwner } from '../util/owned-folder.js';

export const EXPORT_FOLDER: FolderOwner = {
  what: 'an export folder',
  claim: (dir) =>
    claimByManifest(dir, SAMPLE_LOGITS_FILE, 'a robot-nas export manifest', (json) => {
      const j = json as { producer?: unknown; shape?: unknown; files?: unknown } | null;
      if (typeof j !== 'object' || j === null || typeof j.producer !== 'string' || !j.producer.startsWith('robot-nas ')) throw new Error("no 'producer' naming robot-nas");
      if (!Array.isArray(j.shape)) throw new Error("no 'shape'");
      const files = j.files;
      if (typeof files !== 'object' || files === null || Array.isArray(files)) throw new Error("no 'files' listing the export's files");
      const out = new Map<string, string>();
      for (const [name, digest] of Object.entries(files as Record<string, unknown>)) {
        if (typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest) || name.includes('/') || name === SAMPLE_LOGITS_FILE) throw new Error(`bad entry '${name}' in 'files'`);
        out.set(name, digest);
      }
      return out;
    }),
};
