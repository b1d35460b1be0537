import { eventCases } from './event-cases.js';
import { eventOrderCases } from './event-order-cases.js';
import { languageCases } from './language-cases.js';
import type { StoreHarness } from './harness.js';
import { leaseCases } from './lease-cases.js';
import { legacyEventCases } from './legacy-event-cases.js';
import { lifetimeCases } from './lifetime-cases.js';
import { limitCases } from './limit-cases.js';
import { logStatusCases } from './log-status-cases.js';
import { retentionCases } from './retention-cases.js';
import { runCases } from './run-cases.js';
import { taskRunCases } from './task-run-cases.js';
import { takeoverRoomCases } from './takeover-room-cases.js';
import { claimRoundCases } from './claim-round-cases.js';
import { uiSessionCases } from './ui-session-cases.js';

/** Every store test, for one dialect. Call inside a `describe` whose hooks set up and tear down `h`. */
export function defineStoreSuite(h: StoreHarness): void {
  runCases(h);
  taskRunCases(h);
  logStatusCases(h);
  limitCases(h);
  eventCases(h);
  eventOrderCases(h);
  legacyEventCases(h);
  lifetimeCases(h);
  leaseCases(h);
  claimRoundCases(h);
  takeoverRoomCases(h);
  retentionCases(h);
  languageCases(h);
  uiSessionCases(h);
}
