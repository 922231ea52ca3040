/**
 * `scherp` command line: `start` runs the whole CDP locally.
 *   npm start                      persistent data in .scherp/ (SCHERP_DATA_DIR overrides)
 *   npm start -- --in-memory       a throwaway run
 *   npm start -- --port 9000       another port (PORT works too)
 *   npm start -- --config FILE     configuration (default: scherp.config.json, if present)
 */
import './quiet';
import { startRuntime } from './runtime';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function start(args: string[]): Promise<void> {
  const port = Number(flag(args, '--port') ?? process.env.PORT ?? 8080);
  const rt = await startRuntime({
    port,
    inMemory: args.includes('--in-memory'),
    dataDir: flag(args, '--data-dir'),
    configFile: flag(args, '--config'),
    keys: { write: process.env.SCHERP_WRITE_KEY, read: process.env.SCHERP_READ_KEY, admin: process.env.SCHERP_ADMIN_KEY },
    printBus: true,
  });
  const basic = Buffer.from(`${rt.keys.write}:`).toString('base64');
  process.stdout.write(
    [
      `Scherp is running at ${rt.url}`,
      `  data:       ${args.includes('--in-memory') ? '(in memory)' : rt.dataDir}`,
      `  write key:  ${rt.keys.write}`,
      `  read key:   ${rt.keys.read}`,
      `  admin key:  ${rt.keys.admin}`,
      `  bus output: ${rt.dataDir}/bus.jsonl`,
      '',
      'Try:',
      `  curl -s ${rt.url}/v1/track -H 'Authorization: Basic ${basic}' -H 'Content-Type: application/json' \\`,
      `    -d '{"userId":"42","event":"Order Completed","properties":{"revenue":150}}'`,
      `  curl -s -u ${rt.keys.read}: ${rt.url}/v1/profiles/user_id:42`,
      '',
      `SCHERP_READY ${rt.url}`,
      '',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping Scherp…\n`);
    await rt.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

async function main(): Promise<void> {
  const [cmd = 'start', ...rest] = process.argv.slice(2);
  if (cmd === 'start') return start(rest);
  process.stderr.write(`unknown command: ${cmd}\nusage: scherp start [--in-memory] [--port N] [--data-dir DIR] [--config FILE]\n`);
  process.exit(2);
}

main().catch((err) => {
  process.stderr.write(`scherp: ${(err as Error).message}\n`);
  process.exit(1);
});
