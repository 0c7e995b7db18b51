/**
 * Processes started by `gan-train local` get a stdin pipe from the launcher; when the launcher dies (even by
 * SIGKILL) the pipe closes and the child exits instead of training on as an orphan.
 */
export function exitWhenParentGoes(): void {
  if (process.env.GAN_EXIT_WITH_PARENT !== '1') return;
  process.stdin.on('end', () => {
    process.stderr.write(`gan-train: error: the launcher (parent ${process.ppid}) is gone; exiting\n`);
    process.exit(1);
  });
  process.stdin.on('error', () => process.exit(1));
  process.stdin.resume();
}
