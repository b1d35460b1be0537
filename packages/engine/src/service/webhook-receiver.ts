import { NotFoundError, UnauthorizedError, ValidationError, messageOf } from '../domain/errors.js';
import { traceContextOfHeaders } from '../domain/trace-context.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../domain/vocabulary.js';
import { renderTemplate } from '../plan/render.js';
import type { Plan, PlanTrigger } from '../plan/types.js';
import type { Store } from '../store/types.js';
import type { SecretService } from './secret-service.js';
import { checkGenericSignature, checkGithubSignature, checkGitlabToken } from './webhook-signature.js';
import type { WorkflowRunStarter } from './workflow-run-starter.js';

/** The webhook senders Pilotage checks signatures of. */
export const WEBHOOK_PROVIDERS = ['github', 'gitlab', 'generic'] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];

/** The secret (in the workflow's scope, else global) that signs a workflow's webhooks. */
export const WEBHOOK_SECRET_NAME = 'WEBHOOK_SECRET';

/** How long a delivery id is remembered, ms: a redelivery within it starts no second run. */
export const DELIVERY_DEDUP_WINDOW_MS = 24 * 60 * 60 * 1000;

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
   * Handle one request. Throws NotFoundError (no such workflow, or no webhook trigger of this
   * provider), UnauthorizedError (no WEBHOOK_SECRET, or a missing or bad signature: nothing else
   * was looked at), ValidationError (a body that is not JSON, a missing event header, an input
   * template that fails on this payload, data not matching the inputs) or the starter's errors.
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
  'x-pilotage-signature',
]);

/**
 * The receiver over the store's workflows, the secret service and the run starter. Order of
 * checks: workflow and trigger exist → signature → body → event (GitHub `ping` answers `pong`)
 * → workflow enabled → event among a trigger's `events` → inputs rendered → delivery id not
 * seen in 24 h (claimed atomically) → run started.
 */
export function createWebhookReceiver(deps: {
  store: Pick<Store, 'workflows' | 'webhookDeliveries'>;
  starter: WorkflowRunStarter;
  secrets: Pick<SecretService, 'secretsFor'>;
  clock?: () => number;
}): WebhookReceiver {
  const clock = deps.clock ?? Date.now;
  let lastPurge = 0;
  return {
    async receive(request) {
      const { workflow, provider } = request;
      const record = await deps.store.workflows.get(workflow);
      const version = record && (await deps.store.workflows.getVersion(workflow, record.latestVersion));
      if (record === undefined || version === undefined) throw new NotFoundError(`workflow ${workflow} not found`);
      const plan = version.plan as unknown as Plan;
      const triggers = plan.triggers.filter(
        (t): t is Extract<PlanTrigger, { kind: 'webhook' }> => t.kind === 'webhook' && t.provider === provider,
      );
      if (triggers.length === 0) {
        throw new NotFoundError(`workflow ${workflow} has no ${provider} webhook trigger (triggers: in its YAML)`);
      }

      const secret = (await deps.secrets.secretsFor(workflow))[WEBHOOK_SECRET_NAME];
      if (secret === undefined) {
        throw new UnauthorizedError(
          `workflow ${workflow} has no ${WEBHOOK_SECRET_NAME} secret: set one (pilotage secret set ${WEBHOOK_SECRET_NAME} --workflow ${workflow})`,
        );
      }
      const now = clock();
      const header = (name: string): string | undefined => {
        const value = request.headers[name];
        return Array.isArray(value) ? value[0] : value;
      };
      const problem =
        provider === 'github'
          ? checkGithubSignature(secret, request.body, header('x-hub-signature-256'))
          : provider === 'gitlab'
            ? checkGitlabToken(secret, header('x-gitlab-token'))
            : checkGenericSignature(
                secret,
                request.body,
                header('x-pilotage-signature'),
                header('x-pilotage-timestamp'),
                now,
              );
      if (problem !== undefined) throw new UnauthorizedError(`webhook refused: ${problem}`);

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
      const deliveryId = header(DELIVERY_HEADERS[provider]);
      if (now - lastPurge > 60 * 60 * 1000) {
        lastPurge = now;
        await deps.store.webhookDeliveries.purge(now - DELIVERY_DEDUP_WINDOW_MS);
      }
      if (deliveryId !== undefined && deliveryId !== '') {
        const claimed = await deps.store.webhookDeliveries.claim(
          workflow,
          provider,
          deliveryId,
          now,
          DELIVERY_DEDUP_WINDOW_MS,
        );
        if (!claimed) {
          const seen = await deps.store.webhookDeliveries.get(workflow, provider, deliveryId);
          return { kind: 'duplicate', deliveryId, runId: seen?.runId ?? null };
        }
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
        if (deliveryId) await deps.store.webhookDeliveries.setRun(workflow, provider, deliveryId, run.id);
        return { kind: 'started', runId: run.id, number: run.number, event };
      } catch (error) {
        // the run did not start: a corrected redelivery may try again
        if (deliveryId) await deps.store.webhookDeliveries.release(workflow, provider, deliveryId);
        throw error;
      }
    },
  };
}

/** The header carrying each sender's delivery id. */
const DELIVERY_HEADERS: Readonly<Record<WebhookProvider, string>> = {
  github: 'x-github-delivery',
  gitlab: 'x-gitlab-event-uuid',
  generic: 'x-pilotage-delivery',
};

function parsePayload(body: Buffer, contentType: string | undefined): JsonValue {
  let text = body.toString('utf8');
  // GitHub's "application/x-www-form-urlencoded" content type sends the JSON as `payload=`
  if ((contentType ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    text = new URLSearchParams(text).get('payload') ?? '';
  }
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new ValidationError(`the webhook body is not JSON: ${messageOf(error)}`, {
      details: [{ field: 'body', message: 'must be JSON' }],
    });
  }
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
  return isJsonObject(payload) && typeof payload.event === 'string' ? payload.event : '';
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
