/**
 * The body of the coordinator and worker apps: argv → config (the shared train flags plus the command's own) →
 * the command → exit code, with `--help` and one-line errors exactly as the rest of `gan-train` prints them. Flags
 * not given may come from the GAN_* variables of @gan/config's env-flags.ts (a flag wins over its variable).
 * bin/gan-train.mjs routes `gan-train coordinator|worker` to those apps.
 */
import { DISTRIBUTED_FLAGS, formatHelp, parseArgs, type TrainConfig } from '@gan/config';

export interface CommandSpec {
  name: 'coordinator' | 'worker';
  summary: string;
  usage: string;
  run: (config: TrainConfig, extra: Record<string, unknown>) => Promise<number>;
}

async function main(spec: CommandSpec, argv: string[]): Promise<number> {
  // The GAN_* environment contract (@gan/config env-flags.ts) stands in for the rendezvous flags: an orchestrator
  // sets it, and one image runs either role with only the role on its command line.
  const parse = { extra: DISTRIBUTED_FLAGS[spec.name], env: { role: spec.name, vars: process.env } };
  const parsed = parseArgs(argv, parse);
  if (parsed.help) {
    process.stdout.write(formatHelp({ ...parse, usage: spec.usage, description: spec.summary }));
    return 0;
  }
  if (parsed.positional.length) throw new Error(`unexpected argument '${parsed.positional[0]}' (flags start with --)`);
  return spec.run(parsed.config, parsed.extra);
}

/** Runs the command with this process's arguments (after the command name, when bin/gan-train.mjs passed it). */
export function commandMain(spec: CommandSpec): void {
  const argv = process.argv.slice(2);
  if (argv[0] === spec.name) argv.shift();
  main(spec, argv).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`gan-train: error: ${err?.message ?? err}\n`);
      if (process.env.GAN_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
      process.exit(1);
    },
  );
}
