/**
 * Entry of the text-extraction child process (started by load.ts for .docx and .pdf): extracts
 * one file's text under the heap limit its parent set, and sends back the text or the refusal.
 * A bomb that gets past the size checks kills only this process, never the server or the ingest.
 */
import { extractDocx, extractPdf, type ExtractLimits } from './extract.js';

interface Request {
  format: 'docx' | 'pdf';
  file: string;
  bytes: Uint8Array;
  limits: ExtractLimits;
}

const send = (message: unknown) =>
  new Promise<void>((resolve) => {
    if (!process.send) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });

process.once('message', (request: Request) => {
  const bytes = Buffer.from(request.bytes.buffer, request.bytes.byteOffset, request.bytes.byteLength);
  const extract = request.format === 'docx' ? extractDocx : extractPdf;
  extract(bytes, request.file, request.limits)
    .then(
      (text) => send({ ok: true, text }),
      (err: unknown) =>
        send({ ok: false, code: (err as { code?: string }).code ?? 'E_PARSE', message: err instanceof Error ? err.message : String(err) }),
    )
    .finally(() => process.disconnect?.());
});
