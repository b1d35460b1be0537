import { existsSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { ConfigError, ExecutorError } from '../../domain/errors.js';
import { RequestBudget } from './request-budget.js';

/** Where the engine finds its cluster. */
export interface ClusterAccess {
  /** in a pod: its ServiceAccount (in-cluster config); else `kubeconfig` */
  readonly inCluster: boolean;
  /** kubeconfig file(s), `:`-separated: the first that exists is read */
  readonly kubeconfig?: string;
  /** the context to use (default: the file's current context) */
  readonly context?: string;
  /** a config already loaded (tests): used as is */
  readonly kubeConfig?: k8s.KubeConfig;
  /**
   * in-cluster: the folder under which `var/run/secrets/kubernetes.io/serviceaccount/` holds the
   * token, CA and namespace (default `/`, where Kubernetes mounts them)
   */
  readonly inClusterRoot?: string;
}

/** A KubeConfig for `access`, and the namespace it names (undefined when it names none). */
export function loadKubeConfig(access: ClusterAccess): { kc: k8s.KubeConfig; namespace: string | undefined } {
  const kc = access.kubeConfig ?? new k8s.KubeConfig();
  if (access.kubeConfig === undefined) {
    if (access.inCluster) {
      kc.loadFromCluster(access.inClusterRoot?.replace(/\/+$/, '') ?? '');
    } else {
      const files = (access.kubeconfig ?? '').split(':').filter((f) => f !== '');
      const file = files.find((f) => existsSync(f));
      if (file === undefined) {
        throw new ConfigError(
          `the kubernetes executor found no kubeconfig (looked for ${files.join(', ') || 'nothing'}); ` +
            'set KUBECONFIG, or run the engine in a cluster',
        );
      }
      try {
        kc.loadFromFile(file);
      } catch (error) {
        throw new ConfigError(`cannot read the kubeconfig ${file}: ${(error as Error).message}`);
      }
    }
  }
  if (access.context !== undefined) {
    if (kc.getContextObject(access.context) === null) {
      throw new ConfigError(
        `kubeconfig context "${access.context}" not found (have: ${kc.contexts.map((c) => c.name).join(', ')})`,
      );
    }
    kc.setCurrentContext(access.context);
  }
  if (kc.getCurrentCluster() === null) throw new ConfigError('the kubeconfig names no cluster for its current context');
  const namespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  return { kc, namespace: namespace === undefined || namespace === '' ? undefined : namespace.trim() };
}

/** The HTTP status of a failed API call, if it has one. */
export function statusOf(error: unknown): number | undefined {
  if (error instanceof k8s.ApiException) return error.code;
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** The API server's own message of a failed call (a Status body), else the error's. */
export function apiMessage(error: unknown): string {
  if (error instanceof k8s.ApiException) {
    const body = error.body as unknown;
    const parsed = typeof body === 'string' ? safeJson(body) : body;
    const message = (parsed as { message?: unknown } | undefined)?.message;
    return `HTTP ${error.code}${typeof message === 'string' ? `: ${message}` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A streamed GET (a watch, a followed log): the response once its head arrived. */
export interface StreamResponse {
  readonly status: number;
  readonly body: IncomingMessage;
}

/**
 * The thin layer over `@kubernetes/client-node`: the generated CoreV1Api for single calls, and
 * raw streamed GETs for watches and logs (to see their status codes and end them at will).
 * Every request first takes a token of the request budget (QPS/burst) and is counted by kind.
 * Connections are kept alive and reused (the client library would open one per call).
 */
export class KubeApi {
  readonly core: k8s.CoreV1Api;
  readonly budget: RequestBudget;
  private readonly options: k8s.ConfigurationOptions;
  private agent: HttpsAgent | HttpAgent | undefined;
  private readonly server: string;

  constructor(
    readonly kc: k8s.KubeConfig,
    budget: { readonly qps: number; readonly burst: number },
  ) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.budget = new RequestBudget(budget.qps, budget.burst);
    this.server = kc.getCurrentCluster()!.server.replace(/\/+$/, '');
    const shared = (): HttpsAgent | HttpAgent | undefined => this.agent;
    this.options = {
      middleware: [
        {
          // runs after the client set its own (new) agent: reuse ours instead
          pre: (context) => {
            const agent = shared();
            if (agent !== undefined) context.setAgent(agent);
            return new k8s.Observable(Promise.resolve(context));
          },
          post: (response) => new k8s.Observable(Promise.resolve(response)),
        },
      ],
      middlewareMergeStrategy: 'append',
    };
  }

  /** Prepare the shared connection pool (TLS settings of the kubeconfig); call once before use. */
  async open(): Promise<void> {
    if (this.agent !== undefined || this.kc.getCurrentCluster()?.proxyUrl) return;
    const opts: RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    this.agent = this.server.startsWith('https:')
      ? new HttpsAgent({
          keepAlive: true,
          ...(opts.ca === undefined ? {} : { ca: opts.ca }),
          ...(opts.cert === undefined ? {} : { cert: opts.cert }),
          ...(opts.key === undefined ? {} : { key: opts.key }),
          ...(opts.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: opts.rejectUnauthorized }),
          ...(opts.servername === undefined ? {} : { servername: opts.servername }),
        })
      : new HttpAgent({ keepAlive: true });
  }

  /** Run one API call of `kind` within the budget, with the shared connections. */
  async call<T>(kind: string, fn: (options: k8s.ConfigurationOptions) => Promise<T>): Promise<T> {
    await this.budget.take(kind);
    return fn(this.options);
  }

  /** Options of a merge patch call (`patch…`), with the shared connections. */
  get mergePatch(): k8s.ConfigurationOptions {
    return k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch, this.options);
  }

  /**
   * A streamed GET of `path` with `query` (a watch, a log), within the budget. Resolves once the
   * response head arrived, whatever its status; aborting `signal` ends it.
   */
  async stream(
    kind: string,
    path: string,
    query: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<StreamResponse> {
    await this.budget.take(kind);
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const opts: RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    const agent = this.agent ?? opts.agent;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { ...opts, agent, method: 'GET', signal }, (res) =>
        resolve({ status: res.statusCode ?? 0, body: res }),
      );
      req.on('error', (error) =>
        reject(
          signal.aborted ? error : new ExecutorError(`${kind}: ${error.message}`, { cause: error, retryable: true }),
        ),
      );
      req.end();
    });
  }

  close(): void {
    this.agent?.destroy();
  }
}
