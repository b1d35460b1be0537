/** Saved event data per workflow, kept in this browser (localStorage): name → data. */

const key = (workflow: string) => `pilotage.presets.${workflow}`;

export type Presets = Record<string, Record<string, unknown>>;

export function loadPresets(workflow: string, storage: Storage = localStorage): Presets {
  try {
    const value = JSON.parse(storage.getItem(key(workflow)) ?? '{}') as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Presets) : {};
  } catch {
    return {};
  }
}

export function savePreset(
  workflow: string,
  name: string,
  data: Record<string, unknown>,
  storage: Storage = localStorage,
): Presets {
  const next = { ...loadPresets(workflow, storage), [name]: data };
  storage.setItem(key(workflow), JSON.stringify(next));
  return next;
}

export function deletePreset(workflow: string, name: string, storage: Storage = localStorage): Presets {
  const next = { ...loadPresets(workflow, storage) };
  delete next[name];
  storage.setItem(key(workflow), JSON.stringify(next));
  return next;
}
