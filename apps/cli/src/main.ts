/**
 * `gan-train`: the one command line of the distributed GAN trainer. Argument parsing and dispatch only; every
 * subcommand's work lives in a lib.
 *   npx gan-train train --model mlp --dataset ring8 --steps 2000 --out runs/ring8
 *   npx gan-train eval --run runs/ring8 --json
 *   npx gan-train export --run runs/ring8 --format torch
 *   npx gan-train sample --run runs/ring8 --seed 3
 *   npx gan-train local --workers 2 --image-size 32 --channels 1 --ngf 16 --ndf 16 --steps 200
 *   npx gan-train token --out run.token       (the run secret; copy it to every machine)
 *   npx gan-train coordinator --listen HOST:29500 --workers 2 --token-file run.token [train flags]
 *   npx gan-train worker --coordinator HOST:29500 --advertise HOST --token-file run.token [train flags]
 */
import { RunSecret } from '@gan/auth';
import { ConfigError, DISTRIBUTED_COMMANDS, DISTRIBUTED_FLAGS, LOG_FLAGS, formatHelp, parseArgs, type FieldSpec, type ParseOptions } from '@gan/config';
import fs from 'node:fs';
import path from 'node:path';
import { createLogger, ProgressBar, terminalLine } from '@gan/telemetry';
import { initBackend, threadsFor } from '@gan/backend';
import { defaultRunDir, evaluateRun, exportRun, EXPORT_FORMATS, formatEvalResult, prepareRunDir, sampleRun, train } from '@gan/training';

const COMMANDS: Record<string, { summary: string; usage: string; parse: ParseOptions }> = {
  train: { summary: 'train in this process (single worker)', usage: 'gan-train train [options]', parse: { allow: singleProcessFields(), extra: { ...LOG_FLAGS } } },
  eval: {
    summary: 'score a run: VEEGAN mode coverage for 2-D data; for images FD and IS over a classifier\'s or your model\'s features, with real-vs-real floors',
    usage: 'gan-train eval --run DIR [--json]',
    parse: {
      allow: ['backend', 'dataRoot'],
      extra: {
        run: { type: 'string', help: 'run directory (its checkpoints/ folder) or a checkpoint file', metavar: 'DIR' },
        json: { type: 'boolean', help: 'print one JSON line', default: false },
        samples: { type: 'int', min: 2, help: 'samples to draw (default 2500 for 2-D data, 2000 for images)' },
        classifier: { type: 'string', help: 'MNIST or shapes classifier (.safetensors from gan-train classifier) for image runs', metavar: 'FILE' },
        features: { type: 'string', help: 'score with this TF.js graph or layers model instead (model.json or its folder, e.g. a converted Inception-v3)', metavar: 'MODEL' },
        featuresNode: { type: 'string', help: 'node (layer) of --features whose output is the features (default: its only output)', metavar: 'NAME' },
        logitsNode: { type: 'string', help: 'node (layer) of --features whose output is class logits, for the IS formula (default: none)', metavar: 'NAME' },
        featuresSize: { type: 'int', min: 1, max: 4096, help: 'input side of --features (default: from its input shape); images are resized bilinearly' },
        featuresRange: { type: 'enum', values: ['-1,1', '0,1', '0,255'], help: 'pixel range --features expects', default: '-1,1' },
        featuresName: { type: 'string', help: 'whose features, for the score names (default: the model\'s folder; inception-v3 gives FID / IS)', metavar: 'NAME' },
        ...LOG_FLAGS,
      },
    },
  },
  export: {
    summary: 'write a run\'s newest checkpoint as a PyTorch state_dict (safetensors, PyTorch layouts and names)',
    usage: 'gan-train export --run DIR --format torch [--out FILE.safetensors|DIR]',
    parse: {
      allow: ['backend'],
      extra: {
        run: { type: 'string', help: 'run directory (its checkpoints/ folder) or a checkpoint file', metavar: 'DIR' },
        out: { type: 'string', nullable: true, help: 'a .safetensors file, or a folder (default: the run directory, torch_step_NNNNNN.safetensors)', metavar: 'FILE' },
        format: { type: 'enum', values: EXPORT_FORMATS, help: 'output format (torch: load with test/torch/gan_torch.py or safetensors.torch)', default: 'torch' },
        ...LOG_FLAGS,
      },
    },
  },
  sample: {
    summary: "draw G's samples from a run's newest valid checkpoint into a PNG (a grid, or a 2-D scatter plot)",
    usage: 'gan-train sample --run DIR [--n 64] [--seed S] [--out FILE.png]',
    parse: {
      allow: ['backend'],
      extra: {
        run: { type: 'string', help: 'run directory (its checkpoints/ folder) or a checkpoint file', metavar: 'DIR' },
        n: { type: 'int', min: 2, help: 'samples to draw (default 64 for images, 2500 points for 2-D data)' },
        seed: { type: 'int', min: 0, help: "noise seed (default: the run's own sample noise, which reproduces its last fake_samples grid)" },
        out: { type: 'string', nullable: true, help: 'the PNG to write (default: DIR/samples_step_NNNNNN[_seed_S].png)', metavar: 'FILE' },
        ...LOG_FLAGS,
      },
    },
  },
  classifier: {
    summary: 'train the MNIST or shapes classifier that eval uses to score image runs',
    usage: 'gan-train classifier [--dataset mnist|shapes] [--data-root DIR] --image-size N [--channels 1|3] --out FILE.safetensors',
    parse: {
      allow: ['backend', 'dataRoot', 'seed', 'batchSize'],
      extra: {
        dataset: { type: 'enum', values: ['mnist', 'shapes'], help: 'what it classifies: MNIST digits (IDX files in --data-root) or the generated shapes', default: 'mnist' },
        imageSize: { type: 'int', min: 8, max: 1024, nullable: true, help: "image side it reads: shapes, the run's --image-size (default 64); mnist, 28 as it is or 32 padded (default 28)" },
        channels: { type: 'enum', values: [1, 3], nullable: true, help: "shapes: the run's --channels (default 3); mnist: 1" },
        out: { type: 'string', nullable: true, help: 'a .safetensors file, or a folder that gets <dataset>-classifier-<size>.safetensors (default runs/classifier)', metavar: 'FILE' },
        epochs: { type: 'int', min: 1, nullable: true, help: 'passes over the training images (default 5 for mnist, 4 for shapes)' },
        ...LOG_FLAGS,
      },
    },
  },
  local: {
    summary: 'start a coordinator and N workers on this machine (like torchrun --nproc_per_node)',
    usage: 'gan-train local --workers N [train options]',
    parse: { extra: DISTRIBUTED_FLAGS.local },
  },
  token: {
    summary: 'make a run secret for --token-file (the same file on every machine of a run)',
    usage: 'gan-train token [--out FILE]',
    parse: {
      allow: [],
      extra: { out: { type: 'string', nullable: true, help: 'write it to FILE (created readable by its owner only; never overwritten) instead of stdout', metavar: 'FILE' } },
    },
  },
};

function singleProcessFields(): string[] {
  return [
    'model', 'dataset', 'dataRoot', 'download', 'allowHttp', 'dropLast', 'skipBadImages', 'imageSize', 'channels', 'nz', 'ngf', 'ndf',
    'norm', 'spectralNorm', 'mlpHidden', 'steps', 'batchSize', 'optimizer', 'lr', 'beta1', 'beta2', 'loss', 'labelSmoothing', 'clip', 'gpWeight', 'nCritic', 'unrolled', 'featureMatching', 'out', 'overwrite', 'seed', 'backend',
    'threads', 'resume', 'sampleEvery', 'checkpointEvery', 'logEvery', 'keepCheckpoints',
  ];
}

function topHelp(): string {
  const rows = Object.entries({ ...COMMANDS, ...DISTRIBUTED_COMMANDS }).map(([n, c]) => `  ${n.padEnd(12)} ${c.summary}`);
  return ['Usage: gan-train <command> [options]', '', 'Commands:', ...rows, '', 'gan-train <command> --help shows the options of one command.', ''].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(topHelp());
    return cmd ? 0 : 2;
  }
  const spec = COMMANDS[cmd];
  if (!spec) throw new ConfigError(`unknown command '${cmd}': expected one of ${[...Object.keys(COMMANDS), ...Object.keys(DISTRIBUTED_COMMANDS)].join(', ')}`);
  const parsed = parseArgs(rest, spec.parse);
  if (parsed.help) {
    process.stdout.write(formatHelp({ ...spec.parse, usage: spec.usage, description: spec.summary }));
    return 0;
  }
  if (parsed.positional.length) throw new ConfigError(`unexpected argument '${parsed.positional[0]}' (flags start with --)`);
  const { config, extra } = parsed;

  switch (cmd) {
    case 'train': {
      const logger = createLogger({ role: 'trainer', format: String(extra.logFormat) });
      config.out ??= defaultRunDir();
      prepareRunDir(config.out, { resume: config.resume, overwrite: config.overwrite });
      logger.info({ out: config.out }, 'run folder');
      await initBackend(config.backend, logger, { threads: threadsFor(config.threads) });
      const progress = new ProgressBar({ total: config.steps, label: 'train' });
      const stop = installStopHandler(logger);
      const r = await train({ config, logger, progress: progress.isTTY ? progress : undefined, stopRequested: stop });
      logger.info({ step: r.step, out: r.out, stoppedEarly: r.stoppedEarly, digest: r.digest }, 'training finished');
      return 0;
    }
    case 'eval': {
      const logger = createLogger({ role: 'eval', format: String(extra.logFormat) });
      if (!extra.run) throw new ConfigError('eval needs --run DIR (a run directory or checkpoint)');
      await initBackend(config.backend, logger);
      const r = await evaluateRun(String(extra.run), logger, {
        samples: extra.samples === undefined || extra.samples === null ? undefined : Number(extra.samples),
        classifier: extra.classifier ? String(extra.classifier) : undefined,
        dataRoot: config.dataRoot ?? undefined,
        features: extra.features ? String(extra.features) : undefined,
        featuresNode: extra.featuresNode ? String(extra.featuresNode) : undefined,
        logitsNode: extra.logitsNode ? String(extra.logitsNode) : undefined,
        featuresSize: extra.featuresSize === undefined || extra.featuresSize === null ? undefined : Number(extra.featuresSize),
        featuresRange: String(extra.featuresRange).split(',').map(Number) as [number, number],
        featuresName: extra.featuresName ? String(extra.featuresName) : undefined,
      });
      if (extra.json) process.stdout.write(JSON.stringify(r) + '\n');
      else process.stdout.write(formatEvalResult(r));
      return 0;
    }
    case 'export': {
      const logger = createLogger({ role: 'export', format: String(extra.logFormat) });
      if (!extra.run) throw new ConfigError('export needs --run DIR (a run directory or checkpoint)');
      // Building the model to read weights needs no speed: auto means cpu here (no wasm start-up).
      await initBackend(config.backend === 'auto' ? 'cpu' : config.backend, logger);
      const r = await exportRun(String(extra.run), String(extra.format), logger, { out: extra.out ? String(extra.out) : undefined });
      process.stdout.write(JSON.stringify({ path: r.path, step: r.step, tensors: r.tensors, source: r.source }) + '\n');
      return 0;
    }
    case 'sample': {
      const logger = createLogger({ role: 'sample', format: String(extra.logFormat) });
      if (!extra.run) throw new ConfigError('sample needs --run DIR (a run directory or checkpoint)');
      await initBackend(config.backend, logger);
      const r = await sampleRun(String(extra.run), logger, {
        n: extra.n === undefined || extra.n === null ? undefined : Number(extra.n),
        seed: extra.seed === undefined || extra.seed === null ? null : Number(extra.seed),
        out: extra.out ? String(extra.out) : undefined,
      });
      process.stdout.write(JSON.stringify({ path: r.path, step: r.step, n: r.n, seed: r.seed, checkpoint: r.checkpoint }) + '\n');
      return 0;
    }
    case 'classifier': {
      const logger = createLogger({ role: 'classifier', format: String(extra.logFormat) });
      if (extra.dataset === 'shapes') return await trainShapesClassifierCommand(config, extra, logger);
      if (!config.dataRoot) throw new ConfigError('classifier needs --data-root DIR (MNIST IDX files)');
      if (extra.channels !== null && Number(extra.channels) !== 1) throw new ConfigError(`classifier: the MNIST classifier reads 1 channel, got --channels ${extra.channels}`);
      const imageSize = Number(extra.imageSize ?? 28);
      if (imageSize !== 28 && imageSize !== 32) throw new ConfigError(`classifier: --image-size must be 28 or 32, got ${imageSize}`);
      await initBackend(config.backend, logger);
      const dest = extra.out ? String(extra.out) : path.join('runs', 'classifier');
      const out = path.resolve(dest.endsWith('.safetensors') ? dest : path.join(dest, `mnist-classifier-${imageSize}.safetensors`));
      fs.mkdirSync(path.dirname(out), { recursive: true });
      const { trainClassifier } = await import('@gan/metrics');
      const r = await trainClassifier({
        dataRoot: config.dataRoot, imageSize, epochs: Number(extra.epochs ?? 5), batchSize: config.batchSize,
        seed: config.seed, out, logger,
      });
      process.stdout.write(JSON.stringify({ path: r.path, train_accuracy: r.trainAccuracy, held_out_accuracy: r.heldOutAccuracy, seconds: r.seconds }) + '\n');
      return 0;
    }
    case 'token': {
      const text = `${RunSecret.generateText()}\n`;
      if (!extra.out) process.stdout.write(text);
      else {
        try {
          fs.writeFileSync(String(extra.out), text, { mode: 0o600, flag: 'wx' });
        } catch (e) {
          throw new Error(`cannot create the token file ${extra.out}: ${(e as NodeJS.ErrnoException).code === 'EEXIST' ? 'it exists (a run secret is never overwritten)' : (e as Error).message}`);
        }
      }
      return 0;
    }
    // gRPC is loaded only by the commands that use it: train and eval start faster without it.
    case 'local':
      return (await import('@gan/distributed')).runLauncher(config, extra);
  }
  return 2;
}

/** `gan-train classifier --dataset shapes`: generated images, so no --data-root. */
async function trainShapesClassifierCommand(config: { backend: string; seed: number; batchSize: number }, extra: Record<string, unknown>, logger: ReturnType<typeof createLogger>): Promise<number> {
  const imageSize = Number(extra.imageSize ?? 64);
  const channels = Number(extra.channels ?? 3) as 1 | 3;
  await initBackend(config.backend as Parameters<typeof initBackend>[0], logger);
  const dest = extra.out ? String(extra.out) : path.join('runs', 'classifier');
  const out = path.resolve(dest.endsWith('.safetensors') ? dest : path.join(dest, `shapes-classifier-${imageSize}${channels === 1 ? '-1ch' : ''}.safetensors`));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const { trainShapesClassifier } = await import('@gan/metrics');
  const r = await trainShapesClassifier({
    imageSize, channels, epochs: extra.epochs === null ? undefined : Number(extra.epochs), batchSize: config.batchSize, seed: config.seed, out, logger,
  });
  process.stdout.write(JSON.stringify({ path: r.path, train_accuracy: r.trainAccuracy, held_out_accuracy: r.heldOutAccuracy, seconds: r.seconds }) + '\n');
  return 0;
}

/** First Ctrl-C: finish the step and checkpoint; a second one exits at once. */
function installStopHandler(logger: { warn(o: object, m: string): void }): () => boolean {
  let requested = false;
  const onSignal = (sig: string) => {
    if (requested) process.exit(130);
    requested = true;
    logger.warn({ signal: sig }, 'stopping after this step (again to abort)');
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  return () => requested;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    // Every failure is one line naming the problem; GAN_DEBUG=1 adds the stack for bug reports. A progress bar on
    // the terminal stays as it was, with the error on the line below it.
    const line = terminalLine(process.stderr);
    line.endStatus();
    line.writeLines(`gan-train: error: ${err?.message ?? err}`);
    if (process.env.GAN_DEBUG) line.writeLines(`${err?.stack ?? ''}`);
    process.exit(1);
  },
);

export type { FieldSpec };
