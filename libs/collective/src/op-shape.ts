// What two ranks must agree on for one op's stream between them: the fields of the op's description (a
// PullRequest: the gRPC Pull's request, and the data link's OPEN frame) that are not the stream's own address.
// Not run directly; tests: node tools/run-tests.mjs libs/collective tags
import type { PullRequest, PullRequest__Output } from '@gan/proto';

const SHAPE_FIELDS = ['kind', 'world_size', 'length', 'wire', 'reduce', 'root', 'chunk_elems'] as const;

/** The fields on which `theirs` differs from `mine`, as 'field theirs vs mine here'; empty when they agree. */
export function shapeDiff(theirs: PullRequest | PullRequest__Output, mine: PullRequest): string[] {
  const diffs: string[] = [];
  for (const k of SHAPE_FIELDS) if (String(theirs[k]) !== String(mine[k])) diffs.push(`${k} ${theirs[k]} vs ${mine[k]} here`);
  return diffs;
}
