/**
 * The command table of the `scherp` command line and its help: every subcommand is one entry
 * (name, arguments, summary, options); `scherp`, `scherp --help`, `scherp help CMD` and
 * `scherp CMD --help` print from it, and its options are the only ones a command accepts.
 */
import { parseArgs } from 'node:util';

export interface CliOption {
  readonly name: string;
  /** Placeholder of the value (`N`, `DIR`); absent for a switch. */
  readonly value?: string;
  readonly help: string;
}

/** A command's parsed options: a string per option with a value, `true` per switch given. */
export type CliOptions = Readonly<Record<string, string | boolean | undefined>>;

/** The value of an option that takes one (undefined when not given). */
export const optionValue = (o: CliOptions, name: string): string | undefined =>
  typeof o[name] === 'string' ? (o[name] as string) : undefined;

export interface CliCommand {
  readonly name: string;
  /** Positional arguments as shown in the usage line (`FILE`, `list|redrive [ID…]`). */
  readonly args?: string;
  readonly summary: string;
  readonly options: readonly CliOption[];
  run(options: CliOptions, positionals: readonly string[]): Promise<void>;
}

const HELP: CliOption = { name: 'help', help: 'show this help (also -h)' };

function optionText(o: CliOption): string {
  return `--${o.name}${o.value ? ` ${o.value}` : ''}`;
}

function table(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, r]) => `  ${l.padEnd(width)}${r}`);
}

export function usageLine(c: CliCommand): string {
  return `scherp ${c.name}${c.args ? ` ${c.args}` : ''}${c.options.length > 0 ? ' [options]' : ''}`;
}

/** The overview: one line per command. */
export function usage(commands: readonly CliCommand[]): string {
  return [
    'Usage: scherp <command> [options]',
    '(`npm start` is `scherp start`; give it options after --: npm start -- --port 9000)',
    '',
    'Commands:',
    ...table(commands.map((c) => [`${c.name}${c.args ? ` ${c.args}` : ''}`, c.summary])),
    '',
    'Run `scherp <command> --help` for its options.',
    '',
  ].join('\n');
}

/** One command's help: its usage line, what it does, its options. */
export function commandUsage(c: CliCommand): string {
  return [
    `Usage: ${usageLine(c)}`,
    '',
    c.summary,
    '',
    'Options:',
    ...table([...c.options, HELP].map((o) => [optionText(o), o.help])),
    '',
  ].join('\n');
}

/** Parses a command's arguments against its options; unknown options are errors. */
export function parseCommandArgs(
  c: CliCommand,
  args: readonly string[],
): { options: Record<string, string | boolean | undefined>; positionals: string[]; help: boolean } {
  const spec = Object.fromEntries([
    ...c.options.map((o) => [o.name, { type: o.value ? ('string' as const) : ('boolean' as const) }]),
    ['help', { type: 'boolean' as const, short: 'h' }],
  ]);
  const { values, positionals } = parseArgs({ args: [...args], options: spec, strict: true, allowPositionals: true });
  const options: Record<string, string | boolean | undefined> = Object.create(null);
  for (const [k, v] of Object.entries(values)) options[k] = v as string | boolean | undefined;
  return { options, positionals, help: options.help === true };
}

export type CliOutcome =
  | {
      readonly kind: 'run';
      readonly command: CliCommand;
      readonly options: Record<string, string | boolean | undefined>;
      readonly positionals: string[];
    }
  | { readonly kind: 'print'; readonly text: string; readonly exitCode: number };

/** What a command line asks for: a command to run, or a text to print (help, or an error with the usage). */
export function resolveCommandLine(commands: readonly CliCommand[], argv: readonly string[]): CliOutcome {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') return { kind: 'print', text: usage(commands), exitCode: 0 };
  if (first === 'help') {
    const c = commands.find((x) => x.name === rest[0]);
    return { kind: 'print', text: c ? commandUsage(c) : usage(commands), exitCode: rest[0] === undefined || c ? 0 : 2 };
  }
  const command = commands.find((c) => c.name === first);
  if (!command) return { kind: 'print', text: `scherp: unknown command: ${first}\n\n${usage(commands)}`, exitCode: 2 };
  try {
    const parsed = parseCommandArgs(command, rest);
    if (parsed.help) return { kind: 'print', text: commandUsage(command), exitCode: 0 };
    return { kind: 'run', command, options: parsed.options, positionals: parsed.positionals };
  } catch (err) {
    return { kind: 'print', text: `scherp ${command.name}: ${(err as Error).message}\n\n${commandUsage(command)}`, exitCode: 2 };
  }
}
