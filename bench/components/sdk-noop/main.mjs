#!/usr/bin/env node
// bench-sdk-noop: COMPONENT_START, data, TASK_START, TASK_RESULT, COMPONENT_STOP around a handler
// that does nothing. Without the CO_* variables the SDK runs in dev mode and makes no HTTP call,
// which is what the bare loop measures.
import { runComponent } from '@pilotage/sdk';

await runComponent(async () => ({ ok: true }));
