import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.js';
import { assertTimeZone, formatInZone, parseDateTime, queryTime, toInstant, wallClockToInstant } from './event-time.js';

const local = (text: string, zone: string) => toInstant('f', parseDateTime('f', text), zone);

describe('parseDateTime', () => {
  it('reads offsets, Z and local times', () => {
    expect(parseDateTime('f', '2026-03-09T15:00:00-05:00').offsetMinutes).toBe(-300);
    expect(parseDateTime('f', '2026-03-09T15:00:00+05:30').offsetMinutes).toBe(330);
    expect(parseDateTime('f', '2026-03-09T15:00:00Z').offsetMinutes).toBe(0);
    expect(parseDateTime('f', '2026-03-09T15:00').offsetMinutes).toBeUndefined();
    expect(parseDateTime('f', '2026-03-09 15:00:00.250Z').wallClock.millisecond).toBe(250);
  });

  it.each([
    'tomorrow at 3',
    '2026-03-09',
    '2026-02-30T10:00:00Z',
    '2026-13-01T10:00:00Z',
    '2026-03-09T24:00:00Z',
    '2026-03-09T10:60:00Z',
    '2026-03-09T10:00:00+25:00',
  ])('rejects %s with tool_input_invalid naming the field', (text) => {
    expect(() => parseDateTime('start_datetime', text)).toThrowError(
      expect.objectContaining({ code: 'tool_input_invalid', message: expect.stringContaining('start_datetime') }),
    );
  });
});

describe('time zones', () => {
  it('accepts IANA names and rejects others', () => {
    expect(assertTimeZone('timezone', 'America/New_York')).toBe('America/New_York');
    expect(() => assertTimeZone('timezone', 'Mars/Olympus_Mons')).toThrow(AppError);
    expect(() => assertTimeZone('timezone', '+05:00')).toThrow(AppError);
  });

  it('reads a wall-clock time in its zone, with the offset of that date', () => {
    expect(new Date(local('2026-01-15T09:00:00', 'America/New_York')).toISOString()).toBe('2026-01-15T14:00:00.000Z');
    expect(new Date(local('2026-07-15T09:00:00', 'America/New_York')).toISOString()).toBe('2026-07-15T13:00:00.000Z');
    expect(new Date(local('2026-07-15T09:00:00', 'Asia/Kolkata')).toISOString()).toBe('2026-07-15T03:30:00.000Z');
  });

  it('moves a time in the spring-forward gap forward and takes the first of a repeated time', () => {
    // 2026-03-08 02:30 does not exist in New York; 2026-11-01 01:30 happens twice.
    expect(formatInZone(local('2026-03-08T02:30:00', 'America/New_York'), 'America/New_York')).toBe(
      '2026-03-08T03:30:00-04:00',
    );
    expect(formatInZone(local('2026-11-01T01:30:00', 'America/New_York'), 'America/New_York')).toBe(
      '2026-11-01T01:30:00-04:00',
    );
  });

  it('formats an instant with the offset in force at that instant', () => {
    const instant = Date.parse('2026-03-29T01:30:00Z');
    expect(formatInZone(instant, 'Europe/Paris')).toBe('2026-03-29T03:30:00+02:00');
    expect(formatInZone(instant, 'Europe/London')).toBe('2026-03-29T02:30:00+01:00');
    expect(formatInZone(Date.parse('2026-01-01T00:00:00Z'), 'Europe/London')).toBe('2026-01-01T00:00:00+00:00');
    expect(wallClockToInstant(parseDateTime('f', '2026-06-01T00:00:00').wallClock, 'UTC')).toBe(
      Date.parse('2026-06-01T00:00:00Z'),
    );
  });

  it('normalizes query bounds to UTC and requires an offset without a zone', () => {
    expect(queryTime('time_min', '2026-03-09T10:00:00+01:00')).toBe('2026-03-09T09:00:00.000Z');
    expect(queryTime('time_min', '2026-03-09T10:00:00', 'Europe/Paris')).toBe('2026-03-09T09:00:00.000Z');
    expect(() => queryTime('time_min', '2026-03-09T10:00:00')).toThrowError(
      expect.objectContaining({ code: 'tool_input_invalid', message: expect.stringContaining('time_min') }),
    );
  });
});
