/** A pipeline whose stream never ends and waits on nothing: the CLI must say so, not exit silently. */
import { Observable } from 'rxjs';
import { definePipeline } from '../src/index.js';
import { tinyPipeline } from './tiny-pipeline.js';

const tiny = tinyPipeline({ name: 'stalled' });
export default definePipeline({
  ...tiny,
  summary: undefined,
  process: () => () =>
    new Observable(() => {
      /* never emits, never completes */
    }),
});
