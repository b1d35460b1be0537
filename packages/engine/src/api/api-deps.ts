import type { Config } from '../config/config.js';
import type { Engine } from '../engine/engine.js';
import type { CallbackRegistry } from '../protocol/registry.js';
import type { ApprovalService } from '../service/approval-service.js';
import type { FileCompiler } from '../service/file-compiler.js';
import type { SecretService } from '../service/secret-service.js';
import type { WebhookReceiver } from '../service/webhook-receiver.js';
import type { WorkflowRunStarter } from '../service/workflow-run-starter.js';
import type { Store } from '../store/types.js';
import type { TokenService } from './token-service.js';

/**
 * Whether the server takes new work. `serve` flips `accepting` to false on SIGTERM: `/readyz`
 * then answers 503 and routes that start runs answer 503 UNAVAILABLE.
 */
export interface Lifecycle {
  accepting: boolean;
}

/**
 * Everything the API's routes use. `buildApp` never opens a port or a store: the caller
 * (serve.ts, or a test) assembles these and owns their lifetimes.
 */
export interface ApiDeps {
  readonly config: Config;
  readonly store: Store;
  readonly engine: Engine;
  readonly callbacks: CallbackRegistry;
  readonly tokens: TokenService;
  readonly lifecycle: Lifecycle;
  /** starts runs of stored workflows (API, webhooks, cron, CDEvents, reruns) */
  readonly starter: WorkflowRunStarter;
  /** the secret store (values encrypted; API shows names only) */
  readonly secrets: SecretService;
  /** signed webhooks → runs (public routes) */
  readonly webhooks: WebhookReceiver;
  /** approval stages: list waiting ones, approve or reject */
  readonly approvals: ApprovalService;
  /** compiles workflow and component files (default: on the request's thread; the server uses a worker) */
  readonly compiler?: FileCompiler;
  /** epoch ms; tests may pin it */
  readonly clock: () => number;
  /** how often SSE streams send a heartbeat, ms (default SSE_HEARTBEAT_MS; tests shorten it) */
  readonly sseHeartbeatMs?: number;
}
