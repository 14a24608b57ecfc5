import { type Timestamp, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { AppError } from '../errors.js';
import { decodePageToken, pageTokens } from '../http/request.js';

/** An ISO time as a Timestamp; an empty or missing one stays unset, never the epoch. */
export function timestamp(iso: string | null | undefined): Timestamp | undefined {
  if (!iso) return undefined;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : timestampFromDate(date);
}

/** A proto3 string that may be empty: empty is absent, as a missing query parameter is in REST. */
export function given(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** The window of a list call with REST's limits: page_size 0 is the default, over `max` is refused. */
export function pageOf(size: number, token: string, max: number, fallback: number) {
  if (size > max) throw new AppError('validation_failed', `page_size: give at most ${max}`);
  const limit = size || fallback;
  const offset = decodePageToken(given(token));
  return {
    offset,
    limit,
    /** The reply's page fields (next/prev page token, total size). */
    tokens(total: number) {
      const { next_page_token, prev_page_token, total_size } = pageTokens(offset, limit, total);
      return { nextPageToken: next_page_token, prevPageToken: prev_page_token, totalSize: total_size };
    },
  };
}
