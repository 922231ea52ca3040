import type { ScherpEvent } from '../../core/events';

/** Event `n`: a web `Page Viewed` track `n` seconds after 2026-01-01 with message id `m-<n>`, overridable. */
export function eventAt(n: number, over: Partial<ScherpEvent> = {}): ScherpEvent {
  return {
    type: 'track',
    event: 'Page Viewed',
    messageId: `m-${n}`,
    sourceId: 'web',
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    receivedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

/** Makes events with unique message ids, one second apart (from 2026-01-01), overridable. */
export function eventFactory(): (over: Partial<ScherpEvent>) => ScherpEvent {
  let n = 0;
  return (over) => eventAt(++n, over);
}
