/** The engine's version: `pilotage --version`, and what each replica reports (`pilotage db status`). */
export const ENGINE_VERSION = '0.1.0';
