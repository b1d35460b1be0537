import { createHash, randomBytes } from 'node:crypto';
import { ConflictError, UnauthorizedError, ValidationError, messageOf } from '../domain/errors.js';
import { parseJsonText } from '../domain/json-text.js';
import { traceContextOfHeaders } from '../domain/trace-context.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../domain/vocabulary.js';
import { renderTemplate } from '../plan/render.js';
import type { Plan, PlanTrigger } from '../plan/types.js';
import type { Store } from '../store/types.js';
import type { SecretService } from './secret-service.js';
import { checkGithubSignature, checkGitlabToken, checkStandardWebhook } from './webhook-signature.js';
import type { WorkflowRunStarter } from './workflow-run-starter.js';

/** The webhook senders Pilotage checks signatures of. */
export const WEBHOOK_PROVIDERS = ['github', 'gitlab', 'generic'] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];

/** The secret (in the workflow's scope, else global) that signs a workflow's webhooks. */
export const WEBHOOK_SECRET_NAME = 'WEBHOOK_SECRET';

/** How long a delivery id is remembered, ms: a redelivery within it starts no second run. */
export const DELIVERY_DEDUP_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Default of how long the body of an accepted GitHub or GitLab delivery is remembered, ms. */
export const REPLAY_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * The one answer to every refused webhook, whatever the reason: no such workflow, no trigger of
 * this provider, no WEBHOOK_SECRET, a missing, stale or bad signature. An unauthenticated
 * caller cannot tell which workflows exist (the server's log says why).
 */
export const WEBHOOK_REFUSED = 'webhook refused: no webhook of this workflow accepts this request and signature';

/** A refused webhook: answered 401 with WEBHOOK_REFUSED; `reason` is for the server's log only. */
export class WebhookRefusedError extends UnauthorizedError {
  constructor(readonly reason: string) {
    super(WEBHOOK_REFUSED);
  }
}

/** A signed request whose body was accepted before (a replay): answered 409. */
export class WebhookReplayError extends ConflictError {}

/** One incoming webhook request. */
export interface WebhookRequest {
  readonly workflow: string;
  readonly provider: WebhookProvider;
  /** request headers, names lowercase (as Node gives them) */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** the raw body, exactly as received (signatures are over these bytes) */
  readonly body: Buffer;
}

/** What became of a webhook that passed the signature check. */
export type WebhookOutcome =
  | { readonly kind: 'started'; readonly runId: string; readonly number: number; readonly event: string }
  | { readonly kind: 'duplicate'; readonly deliveryId: string; readonly runId: string | null }
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'pong' };

/** Checks, maps and starts webhook-triggered runs. */
export interface WebhookReceiver {
  /**
   * Handle one request. Throws WebhookRefusedError (no such workflow, no webhook trigger of this
   * provider, no WEBHOOK_SECRET, or a missing, stale or bad signature: all alike, and nothing
   * else was looked at), WebhookReplayError (a GitHub or GitLab body accepted within the replay
   * window, under another delivery id), ValidationError (a body that is not JSON, a missing
   * event header, an input template that fails on this payload, data not matching the inputs)
   * or the starter's errors.
   */
  receive(request: WebhookRequest): Promise<WebhookOutcome>;
}

/** Headers never shown to `inputs:` templates (credentials). */
const HIDDEN_HEADERS = new Set([
  'authorization',
  'cookie',
  'x-hub-signature',
  'x-hub-signature-256',
  'x-gitlab-token',
  'webhook-signature',
]);

/**
 * The receiver over the store's workflows, the secret service and the run starter. Order of
 * checks: workflow, trigger, secret and signature (refused alike) → body → event (GitHub `ping`
 * answers `pong`) → workflow enabled → event among a trigger's `events` → inputs rendered →
 * delivery id not seen in 24 h, and (GitHub, GitLab) body not accepted within `replayWindowMs`
 * (default 24 h; 0: off), both claimed atomically → run started.
 */
export function createWebhookReceiver(deps: {
  store: Pick<Store, 'workflows' | 'webhookDeliveries'>;
  starter: WorkflowRunStarter;
  secrets: Pick<SecretService, 'secretsFor'>;
  clock?: () => number;
  replayWindowMs?: number;
}): WebhookReceiver {
  const clock = deps.clock ?? Date.now;
  const replayWindowMs = deps.replayWindowMs ?? REPLAY_WINDOW_MS;
  // checked against when there is no secret, so a refusal costs the same either way
  const decoy = randomBytes(32).toString('base64url');
  let lastPurge = 0;
  return {
    async receive(request) {
      const { workflow, provider } = request;
      const now = clock();
      const header = (name: string): string | undefined => {
        const value = request.headers[name];
        return Array.isArray(value) ? value[0] : value;
      };
      const record = await deps.store.workflows.get(workflow);
      const version = record && (await deps.store.workflows.getVersion(workflow, record.latestVersion));
      const plan = version?.plan as unknown as Plan | undefined;
      const triggers = (plan?.triggers ?? []).filter(
        (t): t is Extract<PlanTrigger, { kind: 'webhook' }> => t.kind === 'webhook' && t.provider === provider,
      );
      const secret = (await deps.secrets.secretsFor(workflow))[WEBHOOK_SECRET_NAME];
      // the signature is checked whatever else is missing, so a refusal takes the same time
      const problem = signatureProblem(provider, secret ?? decoy, request.body, header, now);
      if (record === undefined || version === undefined)
        throw new WebhookRefusedError(`workflow ${workflow} not found`);
      if (triggers.length === 0)
        throw new WebhookRefusedError(`workflow ${workflow} has no ${provider} webhook trigger`);
      if (secret === undefined) {
        throw new WebhookRefusedError(
          `workflow ${workflow} has no ${WEBHOOK_SECRET_NAME} secret (pilotage secret set ${WEBHOOK_SECRET_NAME} --workflow ${workflow})`,
        );
      }
      if (problem !== undefined) throw new WebhookRefusedError(problem);

      const payload = parsePayload(request.body, header('content-type'));
      const event = eventOf(provider, header, payload);
      if (provider === 'github' && event === 'ping') return { kind: 'pong' };
      if (!record.enabled) return { kind: 'ignored', reason: `workflow ${workflow} is disabled` };
      const trigger = triggers.find((t) => matches(t.events, eventNames(provider, event, payload)));
      if (trigger === undefined) {
        const accepted = [...new Set(triggers.flatMap((t) => t.events))].join(', ');
        return {
          kind: 'ignored',
          reason: `event ${event || '(none)'} is not one the workflow's ${provider} triggers accept (${accepted})`,
        };
      }

      const data = renderInputs(trigger, { payload, headers: visibleHeaders(request.headers) });
      if (now - lastPurge > 60 * 60 * 1000) {
        lastPurge = now;
        await deps.store.webhookDeliveries.purge(now - Math.max(DELIVERY_DEDUP_WINDOW_MS, replayWindowMs));
      }
      const deliveries = deps.store.webhookDeliveries;
      const deliveryId = header(DELIVERY_HEADERS[provider]) || undefined;
      const bodyKey =
        provider === 'generic' || replayWindowMs <= 0
          ? undefined
          : `sha256:${createHash('sha256').update(request.body).digest('hex')}`;
      const claimed: [string, string][] = [];
      const releaseClaims = async (): Promise<void> => {
        for (const [kind, id] of claimed) await deliveries.release(workflow, kind, id);
      };
      if (deliveryId !== undefined) {
        if (!(await deliveries.claim(workflow, provider, deliveryId, now, DELIVERY_DEDUP_WINDOW_MS))) {
          const seen = await deliveries.get(workflow, provider, deliveryId);
          return { kind: 'duplicate', deliveryId, runId: seen?.runId ?? null };
        }
        claimed.push([provider, deliveryId]);
      }
      if (bodyKey !== undefined) {
        const kind = `${provider}:body`;
        if (!(await deliveries.claim(workflow, kind, bodyKey, now, replayWindowMs))) {
          await releaseClaims();
          const seen = await deliveries.get(workflow, kind, bodyKey);
          const when = seen === undefined ? 'recently' : `at ${new Date(seen.receivedAt).toISOString()}`;
          throw new WebhookReplayError(
            `webhook refused as a replay: a ${provider} delivery with this exact body was accepted ${when}` +
              `${seen?.runId ? ` (run ${seen.runId})` : ''}; a new event has a new body, and a redelivery keeps its delivery id`,
          );
        }
        claimed.push([kind, bodyKey]);
      }
      try {
        const traceParent = traceContextOfHeaders(request.headers);
        const run = await deps.starter.start({
          workflow,
          version: version.version,
          data,
          trigger: { kind: 'webhook', by: provider, details: { event, delivery: deliveryId ?? null } },
          ...(traceParent === undefined ? {} : { traceParent }),
        });
        for (const [kind, id] of claimed) await deliveries.setRun(workflow, kind, id, run.id);
        return { kind: 'started', runId: run.id, number: run.number, event };
      } catch (error) {
        // the run did not start: a corrected redelivery may try again
        await releaseClaims();
        throw error;
      }
    },
  };
}

/** Why the request's signature does not hold for `secret`, or undefined when it does. */
function signatureProblem(
  provider: WebhookProvider,
  secret: string,
  body: Buffer,
  header: (name: string) => string | undefined,
  now: number,
): string | undefined {
  switch (provider) {
    case 'github':
      return checkGithubSignature(secret, body, header('x-hub-signature-256'));
    case 'gitlab':
      return checkGitlabToken(secret, header('x-gitlab-token'));
    case 'generic':
      return checkStandardWebhook(
        secret,
        body,
        { id: header('webhook-id'), timestamp: header('webhook-timestamp'), signature: header('webhook-signature') },
        now,
      );
  }
}

/** The header carrying each sender's delivery id. */
const DELIVERY_HEADERS: Readonly<Record<WebhookProvider, string>> = {
  github: 'x-github-delivery',
  gitlab: 'x-gitlab-event-uuid',
  generic: 'webhook-id',
};

function parsePayload(body: Buffer, contentType: string | undefined): JsonValue {
  let text = body.toString('utf8');
  // GitHub's "application/x-www-form-urlencoded" content type sends the JSON as `payload=`
  if ((contentType ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    text = new URLSearchParams(text).get('payload') ?? '';
  }
  if (text.trim() === '') return {};
  return parseJsonText(text, 'body') as JsonValue;
}

function eventOf(provider: WebhookProvider, header: (name: string) => string | undefined, payload: JsonValue): string {
  if (provider === 'github') {
    const event = header('x-github-event');
    if (!event) throw missingHeader('X-GitHub-Event');
    return event;
  }
  if (provider === 'gitlab') {
    const event = header('x-gitlab-event');
    if (!event) throw missingHeader('X-Gitlab-Event');
    return event;
  }
  const event = header('x-pilotage-event');
  if (event) return event;
  if (!isJsonObject(payload)) return '';
  // Standard Webhooks payloads name their event `type`
  if (typeof payload.type === 'string') return payload.type;
  return typeof payload.event === 'string' ? payload.event : '';
}

function missingHeader(name: string): ValidationError {
  return new ValidationError(`the webhook has no ${name} header`, {
    details: [{ field: `headers.${name.toLowerCase()}`, message: 'required' }],
  });
}

/**
 * The names an event answers to in a trigger's `events`: GitHub `push`, or
 * `pull_request.opened` with the payload's `action`; GitLab the header (`Push Hook`) or the
 * payload's `object_kind` (`push`, `merge_request`, and `merge_request.open` with its action).
 */
function eventNames(provider: WebhookProvider, event: string, payload: JsonValue): string[] {
  const names = [event];
  if (!isJsonObject(payload)) return names;
  if (provider === 'github' && typeof payload.action === 'string') names.push(`${event}.${payload.action}`);
  if (provider === 'gitlab' && typeof payload.object_kind === 'string') {
    names.push(payload.object_kind);
    const attributes = payload.object_attributes;
    if (isJsonObject(attributes) && typeof attributes.action === 'string') {
      names.push(`${payload.object_kind}.${attributes.action}`);
    }
  }
  return names;
}

function matches(accepted: readonly string[], names: readonly string[]): boolean {
  return accepted.length === 0 || names.some((name) => accepted.includes(name));
}

function visibleHeaders(headers: WebhookRequest['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HIDDEN_HEADERS.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The trigger's `inputs:` templates over `payload` and `headers` (all the compiler lets them read). */
function renderInputs(
  trigger: Extract<PlanTrigger, { kind: 'webhook' }>,
  variables: { payload: JsonValue; headers: Record<string, string> },
): JsonObject {
  const data: JsonObject = {};
  for (const [name, template] of Object.entries(trigger.inputs ?? {})) {
    try {
      data[name] = renderTemplate(template, variables);
    } catch (error) {
      const message = `cannot map the payload to input ${name}: ${messageOf(error)}`;
      throw new ValidationError(message, { details: [{ field: `inputs.${name}`, message: messageOf(error) }] });
    }
  }
  return data;
}
