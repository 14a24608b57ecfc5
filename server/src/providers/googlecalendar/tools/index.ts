import type { ToolDefinition } from '../../types.js';
import { addCalendarToList } from './add-calendar-to-list.js';
import { clearCalendar } from './clear-calendar.js';
import { createCalendar } from './create-calendar.js';
import { createEvent } from './create-event.js';
import { deleteAclRule } from './delete-acl-rule.js';
import { deleteCalendar } from './delete-calendar.js';
import { deleteEvent } from './delete-event.js';
import { getAclRule } from './get-acl-rule.js';
import { getCalendar } from './get-calendar.js';
import { getCalendarListEntry } from './get-calendar-list-entry.js';
import { getColors } from './get-colors.js';
import { getEventById } from './get-event-by-id.js';
import { getSetting } from './get-setting.js';
import { importEvent } from './import-event.js';
import { insertAclRule } from './insert-acl-rule.js';
import { listAclRules } from './list-acl-rules.js';
import { listCalendars } from './list-calendars.js';
import { listEventInstances } from './list-event-instances.js';
import { listEvents } from './list-events.js';
import { listSettings } from './list-settings.js';
import { moveEvent } from './move-event.js';
import { queryFreebusy } from './query-freebusy.js';
import { quickAddEvent } from './quick-add-event.js';
import { removeCalendarFromList } from './remove-calendar-from-list.js';
import { searchEvents } from './search-events.js';
import { transferCalendarOwnership } from './transfer-calendar-ownership.js';
import { updateAclRule } from './update-acl-rule.js';
import { updateCalendar } from './update-calendar.js';
import { updateCalendarListEntry } from './update-calendar-list-entry.js';
import { updateEvent } from './update-event.js';

/** Every Google Calendar tool, listed by hand. */
export const googleCalendarTools: ToolDefinition[] = [
  addCalendarToList,
  clearCalendar,
  createCalendar,
  createEvent,
  deleteAclRule,
  deleteCalendar,
  deleteEvent,
  getAclRule,
  getCalendarListEntry,
  getCalendar,
  getColors,
  getEventById,
  getSetting,
  importEvent,
  insertAclRule,
  listAclRules,
  listCalendars,
  listEventInstances,
  listEvents,
  listSettings,
  moveEvent,
  queryFreebusy,
  quickAddEvent,
  removeCalendarFromList,
  searchEvents,
  transferCalendarOwnership,
  updateAclRule,
  updateCalendarListEntry,
  updateCalendar,
  updateEvent,
];
