import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { AppError } from '../common/errors';
import { AppConfig } from '../config/config';

const SHA256 = /^[a-f0-9]{64}$/;

export function sha256Hex(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * Content-addressed artifact files at `${DATA_DIR}/artifacts/<sha256>`: written atomically (temp
 * file, fsync, rename), verified against their name on every read.
 */
@Injectable()
export class ArtifactStore {
  readonly root: string;

  constructor(config: AppConfig) {
    this.root = join(config.DATA_DIR, 'artifacts');
  }

  /** Stores the bytes under their sha256; `created` is false when an identical, intact file was there. */
  async put(content: Buffer): Promise<{ sha256: string; sizeBytes: number; created: boolean }> {
    const sha256 = sha256Hex(content);
    const target = this.pathOf(sha256);
    const existing = await readFile(target).catch(() => null);
    if (existing && sha256Hex(existing) === sha256)
      return { sha256, sizeBytes: content.length, created: false };
    await mkdir(this.root, { recursive: true });
    const temporary = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    // Make the rename itself durable; not every platform lets a directory be fsynced.
    const directory = await open(this.root, 'r').catch(() => null);
    await directory?.sync().catch(() => undefined);
    await directory?.close();
    return { sha256, sizeBytes: content.length, created: true };
  }

  /** The artifact's bytes; refuses (INVALID_ARTIFACT) when missing or when the content does not hash to its name. */
  async read(sha256: string): Promise<Buffer> {
    const content = await readFile(this.pathOf(sha256)).catch((error: NodeJS.ErrnoException) => {
      throw new AppError(
        'INVALID_ARTIFACT',
        error.code === 'ENOENT'
          ? `Artifact ${sha256} is missing from the artifact store`
          : `Artifact ${sha256} cannot be read: ${error.code ?? error.message}`,
      );
    });
    const actual = sha256Hex(content);
    if (actual !== sha256)
      throw new AppError(
        'INVALID_ARTIFACT',
        `Artifact ${sha256} is corrupt: its content hashes to ${actual}; refusing to load it`,
        { expected: sha256, actual },
      );
    return content;
  }

  async remove(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }

  pathOf(sha256: string): string {
    if (!SHA256.test(sha256)) throw new AppError('INVALID_ARTIFACT', `"${sha256}" is not a sha256 digest`);
    return join(this.root, sha256);
  }
}
