import { replayFailures, type FailureLog } from '../../app/replay-failures';

test('a replay clears notes whose record succeeds or whose item is gone, and keeps those that fail again', async () => {
  const notes = ['ok', 'gone', 'bad'];
  const log: FailureLog<string, string> = {
    list: async () => [...notes],
    streamRecord: async (f) => (f === 'gone' ? undefined : `record-${f}`),
    remove: async (f) => void notes.splice(notes.indexOf(f), 1),
  };
  const evaluated: string[] = [];
  const failedAgain: string[] = [];
  const result = await replayFailures(
    log,
    async (r) => {
      evaluated.push(r);
      if (r === 'record-bad') throw new Error('still failing');
    },
    (f) => failedAgain.push(f),
  );
  expect(result).toEqual({ replayed: 1, gone: 1, failed: 1 });
  expect(evaluated).toEqual(['record-ok', 'record-bad']);
  expect(failedAgain).toEqual(['bad']);
  expect(notes).toEqual(['bad']);
});
