/** The body of `POST /v1/dlq/redrive`: the letters to redrive, or none for all of them. */
import * as z from 'zod';

export const RedriveRequestSchema = z.object({ ids: z.array(z.string().min(1).max(200)).min(1).max(1000).optional() }).strict();

export type RedriveRequest = z.infer<typeof RedriveRequestSchema>;
