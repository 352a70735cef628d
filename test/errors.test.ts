import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, fromPortableError, toPortableError } from '../src/errors.js';
import * as metrics from '../src/metrics/index.js';
import { walk } from './helpers.js';

const SRC = join(import.meta.dirname, '..', 'src');

describe('one error type', () => {
  it('no hand-formatted validation message is left in src: every "received … accepted" is a ConfigError', () => {
    const offenders: string[] = [];
    for (const rel of walk(SRC).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(SRC, rel), 'utf8');
      // The whole `new Error(…);` statement, which the formatter may have wrapped over lines.
      for (const m of text.matchAll(/new (?:Type|Range)?Error\(([\s\S]*?)\)\s*;/g)) {
        if (/accepted|received/.test(m[1])) offenders.push(`${rel}:${text.slice(0, m.index).split('\n').length}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the metrics throw it, with the field, the value received and what is accepted', () => {
    const e = (() => {
      try {
        metrics.linearCKA([[1, 2]], [[1, 2]]);
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(metrics.ConfigError);
    expect(e).toMatchObject({ field: 'X.rows', received: 1, accepted: 'at least 2 examples' });
    expect((e as Error).message).toBe('X.rows: received 1; accepted: at least 2 examples');
    expect(() => metrics.compareRdms([1, 2], [1, 2, 3])).toThrow(ConfigError);
    expect(() => metrics.ccgp([[0], [1], [2], [3]], [0, 1, 2, 3], [0, 1, 2])).toThrow(ConfigError);
  });

  it('crosses a thread boundary as itself; other errors keep their message', () => {
    const back = fromPortableError(
      structuredClone(toPortableError(new ConfigError('folds', 'five', 'an integer >= 2'))),
    );
    expect(back).toBeInstanceOf(ConfigError);
    expect(back.message).toBe('folds: received "five"; accepted: an integer >= 2');
    // A value structured clone cannot copy is sent as its text; the message stays as written.
    const original = new ConfigError('map', () => 1, 'a table');
    expect(original.message).toBe('map: received () => 1; accepted: a table');
    const fn = fromPortableError(structuredClone(toPortableError(original)));
    expect(fn).toBeInstanceOf(ConfigError);
    expect(fn.message).toBe(original.message);
    expect(fn).toMatchObject({ field: 'map', received: '() => 1', accepted: 'a table' });
    const plain = fromPortableError(structuredClone(toPortableError(new Error('disk on fire'))));
    expect(plain).not.toBeInstanceOf(ConfigError);
    expect(plain.message).toBe('disk on fire');
  });
});
