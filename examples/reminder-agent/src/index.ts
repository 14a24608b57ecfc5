export {
  CONFIG_NAME,
  CONNECTIONS,
  type CalendarEvent,
  PROMPT,
  type ReminderAgentOptions,
  type ReminderAgentResult,
  runReminderAgent,
  type ToolCallRecord,
  USER,
} from './reminder-agent.js';
export { sandboxConsent } from './sandbox-consent.js';
export { REMINDER_DURATION_MINUTES, REMINDER_LEAD_MINUTES, ScriptedReminderModel } from './scripted-model.js';
export { Switchboard, SwitchboardError } from '@switchboard/sdk';
