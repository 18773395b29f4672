/** Placeholder: being written (issue 6). */
import type { JobDefinition } from '../jobs/job.ts';

export const alertDigestJob: JobDefinition = {
  name: 'alert-digest',
  description: '',
  schedule: { everyMinutes: 5 },
  async run() {
    throw new Error('not written yet');
  },
};
