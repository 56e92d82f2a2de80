/** The index store contract against the file store, over a copy of the real test index. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFileStore } from '../../src/store/file-store.js';
import { testIndexDir } from '../services.js';
import { describeIndexStore, loadReference, publishedFolder } from './contract.js';

describeIndexStore('file', async () => {
  const ref = await loadReference();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'file-store-'));
  const source = testIndexDir();
  fs.cpSync(path.join(source, publishedFolder(source)), path.join(dir, publishedFolder(source)), { recursive: true });
  fs.copyFileSync(path.join(source, 'CURRENT'), path.join(dir, 'CURRENT'));
  return {
    async open() {
      return createFileStore({ indexDir: dir, embeddingModel: ref.embedder.id, dimension: ref.embedder.dimension });
    },
    async damage() {
      // Same length, one byte changed: only the manifest's checksum can tell.
      const file = path.join(dir, publishedFolder(dir), 'chunks.json');
      const bytes = fs.readFileSync(file);
      const at = bytes.indexOf('"text":"') + 8;
      bytes[at] = bytes[at] === 0x41 ? 0x42 : 0x41;
      fs.writeFileSync(file, bytes);
    },
    async dispose() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});
