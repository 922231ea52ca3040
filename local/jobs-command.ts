/**
 * `scherp jobs list|show ID|cancel ID`: the jobs of the runtime owning the data folder (or at
 * `--url`), through `GET /v1/jobs…` with the admin key; `show --watch` redraws the progress bar
 * until the job ends.
 */
import type { JobView } from '../core/jobs';
import { progressBar } from './import-client';

export interface JobsCommandContext {
  readonly url: string;
  readonly adminKey: string;
  readonly watch: boolean;
  readonly out: (text: string) => void;
}

/** The kind's counters as a few words: `+3 −1` (backfill), `2 matched, 5 firings` (backtest), `120 rows` (export), `40 recomputed` (recompute). */
function counters(j: JobView): string {
  const p = j.progress;
  if (j.kind === 'audience-backfill') return `, +${p.entered ?? 0} −${p.exited ?? 0}`;
  if (j.kind === 'rule-backtest') return `, ${p.matched ?? 0} matched, ${p.firings ?? 0} firings`;
  if (j.kind === 'audience-export') return `, ${p.rows ?? 0} rows`;
  if (j.kind === 'computed-recompute') return `, ${p.recomputed ?? 0} recomputed`;
  return '';
}

/** One line per job: id, what it works on (audience or rule), status, the progress bar, rate, the kind's counters and ETA. */
export function jobLine(j: JobView): string {
  const p = j.progress;
  const eta = j.status === 'running' && p.etaSeconds !== null ? `  eta ${p.etaSeconds}s` : '';
  // A job on no audience or rule (a recompute) shows its kind.
  const what = j.audienceId ?? j.ruleId ?? (j.kind === 'computed-recompute' ? j.kind : j.subject);
  return `${j.id}  ${what}  ${j.status.padEnd(9)} ${progressBar(p.done, p.total, 20, 'segments')}  ${p.profilesScanned} profiles (${p.rate}/s)${counters(j)}${eta}`;
}

async function call(ctx: JobsCommandContext, method: string, path: string): Promise<unknown> {
  const res = await fetch(`${ctx.url}${path}`, { method, headers: { authorization: `Bearer ${ctx.adminKey}` } });
  const body = (await res.json()) as { message?: string };
  if (!res.ok) throw new Error(`${ctx.url}${path}: ${res.status} ${body.message ?? ''}`);
  return body;
}

export async function jobsCommand(ctx: JobsCommandContext, positionals: readonly string[]): Promise<void> {
  const [sub, id] = positionals;
  if (sub === 'list') {
    const { jobs } = (await call(ctx, 'GET', '/v1/jobs')) as { jobs: JobView[] };
    if (jobs.length === 0) ctx.out('no jobs\n');
    for (const j of jobs) ctx.out(`${jobLine(j)}\n`);
    return;
  }
  if ((sub === 'show' || sub === 'cancel') && id) {
    const path = `/v1/jobs/${encodeURIComponent(id)}`;
    if (sub === 'cancel') {
      ctx.out(`${jobLine((await call(ctx, 'POST', `${path}/cancel`)) as JobView)}\n`);
      return;
    }
    for (;;) {
      const j = (await call(ctx, 'GET', path)) as JobView;
      ctx.out(`${jobLine(j)}\n`);
      if (!ctx.watch || j.status !== 'running') {
        if (j.progress.corrupt.length > 0) ctx.out(`corrupt items skipped: ${j.progress.corrupt.join(', ')}\n`);
        if (j.result) ctx.out(`${JSON.stringify(j.result)}\n`);
        return;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  throw new Error('say what to do: scherp jobs list, scherp jobs show ID [--watch], or scherp jobs cancel ID');
}
