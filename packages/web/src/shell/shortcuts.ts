import { useEffect } from 'react';

/** A key sequence (`g r`, `/`, `?`) and what it does. */
export interface Shortcut {
  readonly keys: string;
  readonly label: string;
  readonly run: () => void;
}

/** True when the key event comes from a field the user types in. */
export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName) || !!el.closest('.cm-editor');
}

/**
 * Global keyboard shortcuts, single keys or two-key sequences (`g` then `r` within a second).
 * Ignored while typing in a field, or with Ctrl, Alt or Meta held.
 */
export function useShortcuts(shortcuts: readonly Shortcut[]): void {
  useEffect(() => {
    let prefix = '';
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.altKey || event.metaKey || isTyping(event.target)) return;
      const key = prefix === '' ? event.key : `${prefix} ${event.key}`;
      const exact = shortcuts.find((s) => s.keys === key);
      if (exact) {
        event.preventDefault();
        prefix = '';
        exact.run();
        return;
      }
      if (shortcuts.some((s) => s.keys.startsWith(`${event.key} `))) {
        prefix = event.key;
        clearTimeout(timer);
        timer = setTimeout(() => (prefix = ''), 1000);
        return;
      }
      prefix = '';
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
      clearTimeout(timer);
    };
  }, [shortcuts]);
}
