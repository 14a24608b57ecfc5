/**
 * The dashboard's only script: progressive enhancement, every page works without it.
 * Served from /dashboard/assets/ so the CSP can forbid inline script.
 */
export const CLIENT_SCRIPT = `
(() => {
  'use strict';
  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
  const live = document.getElementById('live');
  const say = (text) => { if (live) { live.textContent = ''; setTimeout(() => { live.textContent = text; }, 30); } };

  // Copy buttons: <button data-copy="element-id">
  for (const button of document.querySelectorAll('button[data-copy]')) {
    // A copy button of a value not revealed yet stays hidden until the reveal.
    button.hidden = Boolean(document.getElementById(button.dataset.copy ?? '')?.hidden);
    button.addEventListener('click', async () => {
      const source = document.getElementById(button.dataset.copy ?? '');
      const text = source?.textContent?.trim() ?? '';
      if (!text) return;
      try {
        await navigator.clipboard.writeText(text);
        say('Copied to the clipboard');
        const label = button.textContent;
        button.textContent = 'Copied';
        setTimeout(() => { button.textContent = label; }, 1500);
      } catch {
        const range = document.createRange();
        range.selectNodeContents(source);
        const selection = getSelection();
        selection?.removeAllRanges();
        selection?.addRange(range);
        say('Press Control+C to copy');
      }
    });
  }

  // Forms that ask before doing something that cannot be undone: <form data-confirm="…">
  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (event) => {
      if (!confirm(form.dataset.confirm ?? 'Are you sure?')) event.preventDefault();
    });
  }

  // Instance URL reveal / rotate without leaving the page: <form data-reveal="output-id">
  for (const form of document.querySelectorAll('form[data-reveal]')) {
    form.addEventListener('submit', async (event) => {
      if (event.defaultPrevented) return;
      event.preventDefault();
      const output = document.getElementById(form.dataset.reveal ?? '');
      try {
        const response = await fetch(form.action, {
          method: 'POST',
          headers: { 'x-csrf-token': csrf, accept: 'application/json' },
          credentials: 'same-origin',
        });
        const body = await response.json();
        if (!response.ok || typeof body.url !== 'string') throw new Error(body.error ?? 'failed');
        if (output) {
          output.textContent = body.url;
          output.hidden = false;
          const copy = document.querySelector('button[data-copy="' + output.id + '"]');
          if (copy) copy.hidden = false;
        }
        say(body.rotated ? 'A new URL was issued; the old one no longer works' : 'URL revealed');
      } catch {
        say('That did not work; reload the page and try again');
      }
    });
  }

  // Tool pickers: search, select all / none, and a live count.
  for (const picker of document.querySelectorAll('[data-tool-picker]')) {
    const controls = picker.querySelector('.tool-tools');
    if (controls) controls.hidden = false;
    const search = picker.querySelector('input[type="search"]');
    const items = [...picker.querySelectorAll('li[data-search]')];
    const count = picker.querySelector('[data-count]');
    const boxes = () => items.map((item) => item.querySelector('input[type="checkbox"]')).filter(Boolean);
    const update = () => {
      const checked = boxes().filter((box) => box.checked).length;
      if (count) count.textContent = checked + ' of ' + items.length + ' selected';
    };
    search?.addEventListener('input', () => {
      const needle = search.value.trim().toLowerCase();
      let shown = 0;
      for (const item of items) {
        const match = !needle || (item.dataset.search ?? '').includes(needle);
        item.hidden = !match;
        if (match) shown++;
      }
      say(shown + ' tools match');
    });
    // Ticking a tool under a connection that is left out includes the connection.
    const include = () => {
      const none = picker.querySelector('input[type="radio"][value="none"]');
      const selected = picker.querySelector('input[type="radio"][value="selected"]');
      if (none?.checked && selected) selected.checked = true;
    };
    const setAll = (value) => {
      for (const item of items) {
        if (item.hidden) continue;
        const box = item.querySelector('input[type="checkbox"]');
        if (box) box.checked = value;
      }
      if (value) include();
      update();
    };
    picker.querySelector('[data-select-all]')?.addEventListener('click', () => setAll(true));
    picker.querySelector('[data-select-none]')?.addEventListener('click', () => setAll(false));
    picker.addEventListener('change', (event) => {
      const target = event.target;
      if (target instanceof HTMLInputElement && target.type === 'checkbox' && target.checked) include();
      update();
    });
    update();
  }
})();
`;
