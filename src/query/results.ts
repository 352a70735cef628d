/**
 * Reading a results folder back with an embedded DuckDB (@duckdb/node-api): the views `runs`,
 * `metrics`, `final` (every run's metric rows at its last checkpoint), `neurons` and `field` when
 * present, the bootstrap-interval macros (./bootstrap.ts), and a plain-text table printer.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BOOTSTRAP_MACROS } from './bootstrap.js';

/** SQL string literal. */
function lit(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** A results folder opened as DuckDB views, for several queries on one connection. */
export interface ResultsSession {
  query(sql: string): Promise<{ columns: string[]; rows: Record<string, unknown>[] }>;
  /** The views this folder has (`runs`, `metrics`, `final`, `neurons`, `field`). */
  views: ReadonlySet<string>;
  close(): void;
}

/** Open a results folder's views (see the file comment); `close()` it when done. */
export async function openResults(dir: string): Promise<ResultsSession> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const views = new Set<string>();
  const close = () => {
    conn.closeSync();
    instance.closeSync();
  };
  try {
    for (const macro of BOOTSTRAP_MACROS) await conn.run(macro);
    // runs*.parquet: runs.parquet, or the runs.shard-i-of-n.parquet of a sharded pipeline.
    const runFiles = readdirSync(dir)
      .filter((f) => /^runs(\.shard-\d+-of-\d+)?\.parquet$/.test(f))
      .map((f) => join(dir, f));
    const parts = join(dir, 'metrics', '*.parquet');
    if (runFiles.length) {
      await conn.run(
        `CREATE VIEW runs AS SELECT * FROM read_parquet([${runFiles.map(lit).join(', ')}], union_by_name = true)`,
      );
      views.add('runs');
    }
    if (existsSync(join(dir, 'metrics'))) {
      await conn.run(`CREATE VIEW metrics AS SELECT * FROM read_parquet(${lit(parts)})`);
      await conn.run(`CREATE VIEW final AS SELECT m.* FROM metrics m
        JOIN (SELECT run_id, max(step) AS step FROM metrics GROUP BY run_id) f USING (run_id, step)`);
      views.add('metrics').add('final');
    }
    for (const table of ['neurons', 'field']) {
      if (existsSync(join(dir, table))) {
        await conn.run(`CREATE VIEW ${table} AS SELECT * FROM read_parquet(${lit(join(dir, table, '*.parquet'))})`);
        views.add(table);
      }
    }
  } catch (e) {
    close();
    throw e;
  }
  return {
    views,
    close,
    async query(sql) {
      const reader = await conn.runAndReadAll(sql);
      return { columns: reader.columnNames(), rows: reader.getRowObjectsJS() as Record<string, unknown>[] };
    },
  };
}

/** Run `sql` against a results folder's views and macros; returns column names and rows (JS values). */
export async function queryResults(
  dir: string,
  sql: string,
): Promise<{ columns: string[]; rows: Record<string, unknown>[] }> {
  const session = await openResults(dir);
  try {
    return await session.query(sql);
  } finally {
    session.close();
  }
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(4);
  if (typeof v === 'bigint') return v.toString();
  return String(v);
}

/** Format rows as an aligned text table (numbers right-aligned, 4 decimals). */
export function formatTable(columns: string[], rows: Record<string, unknown>[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const numeric = columns.map((c) =>
    rows.every((r) => r[c] === null || typeof r[c] === 'number' || typeof r[c] === 'bigint'),
  );
  const line = (vals: string[]) =>
    vals.map((v, i) => (numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ');
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
