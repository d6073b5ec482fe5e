// A layer's diff id: the sha256 of its uncompressed tar. The config's diff ids name the layer
// chains, so a layer whose content does not match its diff id would poison a chain shared with
// other images: it is checked before the chain is built.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

const hashSink = (hash: ReturnType<typeof createHash>): Writable => new Writable({
  write(chunk: Buffer, _enc, cb) {
    hash.update(chunk);
    cb();
  },
});

/** sha256 of the uncompressed content of a gzip, zstd or plain tar blob. */
export async function uncompressedDigest(path: string, signal?: AbortSignal): Promise<string> {
  const fh = await open(path, 'r');
  const magic = Buffer.alloc(4);
  try {
    await fh.read(magic, 0, 4, 0);
  } finally {
    await fh.close();
  }
  const hash = createHash('sha256');
  const opts = signal ? { signal } : {};
  if (magic[0] === 0x1f && magic[1] === 0x8b) {
    await pipeline(createReadStream(path), createGunzip(), hashSink(hash), opts);
  } else if (magic.readUInt32LE(0) === 0xfd2fb528) {
    const child = spawn('zstd', ['-dc', path], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    await pipeline(child.stdout as Readable, hashSink(hash));
    const code = await exited;
    if (code !== 0) throw new Error(`zstd -dc ${path} exited ${String(code)}: ${err.trim()}`);
  } else {
    await pipeline(createReadStream(path), hashSink(hash), opts);
  }
  return `sha256:${hash.digest('hex')}`;
}
