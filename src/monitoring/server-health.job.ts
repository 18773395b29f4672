/** Placeholder: being written (issue 6). */
import type { JobDefinition } from '../jobs/job.ts';

export const serverHealthJob: JobDefinition = {
  name: 'server-health',
  description: '',
  schedule: { everyMinutes: 5 },
  async run() {
    throw new Error('not written yet');
  },
};
