export { Switchboard, SwitchboardError } from '@switchboard/sdk';
export {
  type CalendarEvent,
  CONFIG_NAME,
  CONNECTIONS,
  PROMPT,
  type ReminderAgentOptions,
  type ReminderAgentResult,
  runReminderAgent,
  type ToolCallRecord,
  USER,
} from './reminder-agent.js';
export { sandboxConsent } from './sandbox-consent.js';
export { REMINDER_DURATION_MINUTES, REMINDER_LEAD_MINUTES, ScriptedReminderModel } from './scripted-model.js';
export { type UserVerifyHandlerOptions, userVerifyHandler } from './user-verify-handler.js';
