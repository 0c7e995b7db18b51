/**
 * The run's credentials from a distributed command's flags (`--token-file`, `--insecure`, `--tls-*`) and the
 * environment (GAN_TOKEN, GAN_TOKEN_FILE): the one place the coordinator, the workers and the launcher get them.
 */
import { RunCredentials } from '@gan/auth';

export function credentialsFromFlags(extra: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): RunCredentials {
  const str = (k: string) => (typeof extra[k] === 'string' && extra[k] !== '' ? (extra[k] as string) : undefined);
  return RunCredentials.fromOptions(
    { tokenFile: str('tokenFile'), insecure: extra.insecure === true, tlsCert: str('tlsCert'), tlsKey: str('tlsKey'), tlsCa: str('tlsCa') },
    env,
  );
}
