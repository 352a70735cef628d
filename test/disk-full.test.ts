/**
 * A full disk: the error names the file that could not be written, no temporary file stays, and
 * the manifest (when it can still be written) says complete: false with the error, listing only
 * files that exist. Runs where a small tmpfs can be mounted (root, as on CI); else skipped.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline } from '../src/pipeline.js';
import resumable from './resumable-pipeline.js';
import { walk } from './helpers.js';

const mountPoint = mkdtempSync(join(tmpdir(), 'geomstream-full-'));
let mounted = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint], { stdio: 'ignore' });
  mounted = true;
} catch {
  /* not allowed here */
}
afterAll(() => {
  if (mounted) execFileSync('umount', ['-l', mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

describe.skipIf(!mounted)('a full disk', () => {
  it('fails naming the file, leaves no temporary file, and the manifest says so', async () => {
    const err = await runPipeline(resumable, {
      out: mountPoint,
      formats: ['arrow', 'ndjson'],
      snapshots: true,
      workers: 1,
    }).then(
      () => null,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err).not.toBeNull();
    expect(err!.message).toMatch(new RegExp(`^writing ${mountPoint}/resumable/\\S+: ENOSPC`));
    expect(err!.code).toBe('ENOSPC');
    const dir = join(mountPoint, 'resumable');
    const files = walk(dir);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.complete).toBe(false);
    for (const f of manifest.files) expect(existsSync(join(dir, f)), f).toBe(true);
    // The error is recorded when the disk still had room for the manifest.
    if (manifest.error !== null) expect(manifest.error).toMatch(/ENOSPC/);
  }, 60_000);
});
