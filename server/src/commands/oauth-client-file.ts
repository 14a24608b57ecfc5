import { z } from 'zod';
import { CommandError } from './command-error.js';

const googleClient = z.object({ client_id: z.string().min(1).optional(), client_secret: z.string().trim().min(1) });
/** The file Google Cloud Console downloads: `web` for a web application, `installed` for a desktop one. */
const googleClientFile = z.union([z.object({ web: googleClient }), z.object({ installed: googleClient })]);

/**
 * The OAuth app as `--oauth-client-secret-file` gives it: the secret alone, or Google's
 * downloaded `client_secret_<id>.apps.googleusercontent.com.json` as is. Stored whole, that
 * JSON text failed every token exchange later with an obscure invalid_client; the secret and
 * the client id inside it are what the connection needs. Errors name `from`, never the text.
 */
export function oauthClientFromFile(text: string, from: string): { secret: string; clientId?: string } {
  // Only an object: a plain secret such as `12345` is valid JSON too.
  if (!text.startsWith('{')) return { secret: text };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { secret: text };
  }
  const parsed = googleClientFile.safeParse(json);
  if (!parsed.success) {
    throw new CommandError(
      `--oauth-client-secret-file ${from} is JSON but not Google's OAuth client file`,
      'give the file Google Cloud Console downloads ({"web":{"client_id":…,"client_secret":…}}, or "installed" for a desktop app), or a file that holds only the secret',
    );
  }
  const app = 'web' in parsed.data ? parsed.data.web : parsed.data.installed;
  return { secret: app.client_secret, clientId: app.client_id };
}
