import { Switchboard } from '@switchboard/sdk';
import { runReminderAgent } from './reminder-agent.js';
import { sandboxConsent } from './sandbox-consent.js';

/**
 * `npm start -w examples/reminder-agent`, against a running Switchboard:
 *   SWITCHBOARD_URL (default http://localhost:3000), SWITCHBOARD_CLIENT_ID, SWITCHBOARD_CLIENT_SECRET,
 *   OPENAI_API_KEY (optional), AUTO_CONSENT=1 to consent as the sandbox user john.doe@example.com.
 */
const env = process.env;
if (!env.SWITCHBOARD_CLIENT_ID || !env.SWITCHBOARD_CLIENT_SECRET) {
  console.error('error: set SWITCHBOARD_CLIENT_ID and SWITCHBOARD_CLIENT_SECRET');
  console.error(
    'hint: the first `npx switchboard start` printed them and saved them in .data/admin-credentials.json (after `npm start`: .data/demo/admin-credentials.json); new ones: `npx switchboard clients create`',
  );
  process.exit(1);
}
const switchboard = new Switchboard({
  url: env.SWITCHBOARD_URL ?? 'http://localhost:3000',
  clientId: env.SWITCHBOARD_CLIENT_ID,
  clientSecret: env.SWITCHBOARD_CLIENT_SECRET,
});
try {
  const result = await runReminderAgent({
    switchboard,
    openAiApiKey: env.OPENAI_API_KEY,
    autoConsent: env.AUTO_CONSENT === '1' ? sandboxConsent('john.doe@example.com') : undefined,
  });
  const start = result.event?.start?.dateTime;
  console.log(result.event ? `Event in the calendar: "${result.event.summary}" at ${start}` : 'No event was created.');
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
