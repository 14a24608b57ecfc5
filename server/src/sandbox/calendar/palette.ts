/**
 * Google Calendar's fixed color palettes, as colors.get returns them: 24 calendar colors, 11 event colors.
 * https://developers.google.com/workspace/calendar/api/v3/reference/colors
 */
export interface ColorPair {
  background: string;
  foreground: string;
}

const FOREGROUND = '#1d1d1d';

const calendarBackgrounds = [
  '#ac725e',
  '#d06b64',
  '#f83a22',
  '#fa573c',
  '#ff7537',
  '#ffad46',
  '#42d692',
  '#16a765',
  '#7bd148',
  '#b3dc6c',
  '#fbe983',
  '#fad165',
  '#92e1c0',
  '#9fe1e7',
  '#9fc6e7',
  '#4986e7',
  '#9a9cff',
  '#b99aff',
  '#c2c2c2',
  '#cabdbf',
  '#cca6ac',
  '#f691b2',
  '#cd74e6',
  '#a47ae2',
];

const eventBackgrounds = [
  '#a4bdfc',
  '#7ae7bf',
  '#dbadff',
  '#ff887c',
  '#fbd75b',
  '#ffb878',
  '#46d6db',
  '#e1e1e1',
  '#5484ed',
  '#51b749',
  '#dc2127',
];

const toPalette = (backgrounds: string[]): Record<string, ColorPair> =>
  Object.fromEntries(backgrounds.map((background, i) => [String(i + 1), { background, foreground: FOREGROUND }]));

export const calendarColors: Record<string, ColorPair> = toPalette(calendarBackgrounds);
export const eventColors: Record<string, ColorPair> = toPalette(eventBackgrounds);

/** The palette entry closest to an RGB color, which calendarList writes with colorRgbFormat pick as colorId. */
export function nearestCalendarColorId(hex: string): string {
  const rgb = (value: string) => [1, 3, 5].map((i) => Number.parseInt(value.slice(i, i + 2), 16));
  const [r, g, b] = rgb(hex);
  let best = '1';
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const [id, pair] of Object.entries(calendarColors)) {
    const [pr, pg, pb] = rgb(pair.background);
    const distance = ((r ?? 0) - (pr ?? 0)) ** 2 + ((g ?? 0) - (pg ?? 0)) ** 2 + ((b ?? 0) - (pb ?? 0)) ** 2;
    if (distance < bestDistance) {
      best = id;
      bestDistance = distance;
    }
  }
  return best;
}
