/**
 * `geomstream/query`: a results folder as DuckDB views (`runs`, `metrics`, `final`, `neurons`,
 * `field`), the summary tables, and the HTML report. Separate from the root entry point because it
 * loads DuckDB's native addon.
 */
export { queryResults, formatTable } from './results.js';
export { report } from './report.js';
