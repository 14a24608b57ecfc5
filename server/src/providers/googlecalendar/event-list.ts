import { AppError } from '../../errors.js';
import type { ToolContext } from '../types.js';

/** What the event list tools answer: Google's event objects plus paging. */
export interface EventPage {
  events: unknown[];
  next_page_token: string | null;
  /** The calendar's time zone, for reading the events' local times. */
  time_zone: string | null;
}

interface GoogleEventList {
  items?: unknown[];
  nextPageToken?: string;
  timeZone?: string;
}

export async function fetchEventPage(
  ctx: ToolContext,
  url: string,
  query: Record<string, string | number | boolean | string[] | undefined>,
): Promise<EventPage> {
  const page = await ctx.api.request<GoogleEventList>({ url, query });
  return { events: page.items ?? [], next_page_token: page.nextPageToken ?? null, time_zone: page.timeZone ?? null };
}

/** Google sorts by start time only over expanded occurrences; say so before it answers 400. */
export function eventOrder(
  orderBy: 'startTime' | 'updated' | undefined,
  singleEvents: boolean,
): 'startTime' | 'updated' | undefined {
  if (orderBy === 'startTime' && !singleEvents) {
    throw new AppError('tool_input_invalid', "order_by 'startTime' needs single_events true", {
      details: { field: 'order_by' },
    });
  }
  return orderBy ?? (singleEvents ? 'startTime' : undefined);
}
