/**
 * The functions' own logger and metrics write what the dashboard, the alarms and log queries
 * expect of Powertools: JSON log lines at or above the level, one EMF line per flush with the
 * `service` dimension and the counts summed.
 */
function load(env: Record<string, string>) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  let mod: typeof import('../../lambdas/shared/observability') | undefined;
  jest.isolateModules(() => {
    mod = require('../../lambdas/shared/observability');
  });
  process.env = saved;
  return mod!;
}

function capture(fn: () => void): string[] {
  const lines: string[] = [];
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((s) => {
    lines.push(String(s));
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((s) => {
    lines.push(String(s));
    return true;
  });
  try {
    fn();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return lines;
}

it('metrics: one embedded-metric-format line per flush, counts summed, in the namespace with the service dimension', () => {
  const o = load({
    POWERTOOLS_SERVICE_NAME: 'stitch',
    POWERTOOLS_METRICS_NAMESPACE: 'Scherp',
    POWERTOOLS_METRICS_DISABLED: 'false',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  o.metrics.addMetric('EventsStored', o.MetricUnit.Count, 3);
  o.metrics.addMetric('EventsStored', o.MetricUnit.Count, 2);
  o.metrics.addMetric('ProfilesMerged', o.MetricUnit.Count, 1);
  const lines = capture(() => o.flushMetrics());
  expect(lines).toHaveLength(1);
  const emf = JSON.parse(lines[0]!);
  expect(emf).toMatchObject({
    _aws: {
      CloudWatchMetrics: [
        {
          Namespace: 'Scherp',
          Dimensions: [['service']],
          Metrics: [
            { Name: 'EventsStored', Unit: 'Count' },
            { Name: 'ProfilesMerged', Unit: 'Count' },
          ],
        },
      ],
    },
    service: 'stitch',
    EventsStored: 5,
    ProfilesMerged: 1,
  });
  expect(typeof emf._aws.Timestamp).toBe('number');
  // Published once: the next flush has nothing to write.
  expect(capture(() => o.flushMetrics())).toEqual([]);
});

it('logs: JSON lines with level, message, service and the fields, below the level dropped', () => {
  const o = load({ POWERTOOLS_SERVICE_NAME: 'collect', POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true' });
  const lines = capture(() => {
    o.logger.info('not shown', { a: 1 });
    o.logger.warn('stitch failed', { messageId: 'm-1' });
  });
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'WARN', message: 'stitch failed', service: 'collect', messageId: 'm-1' });
  // Metrics switched off write nothing.
  o.metrics.addMetric('X', o.MetricUnit.Count, 1);
  expect(capture(() => o.flushMetrics())).toEqual([]);
});
