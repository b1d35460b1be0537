/**
 * The `kubernetes:` block of a component: the allow-list of pod fields a component may set,
 * each with its exact Kubernetes 1.20 shape. Every object is closed (`additionalProperties:
 * false`) at every level, because an API server of that age drops unknown fields silently: a
 * typo (`tolerations[0].efect`) would run the pod without it. Checked when the file is loaded,
 * so a mistake is an error naming file, line and field. The Kubernetes executor copies these
 * onto the pod (executor/kubernetes/pod.ts); other executors ignore them.
 */

const str = { type: 'string', minLength: 1 } as const;
const strings = { type: 'array', items: str } as const;
const int = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const closed = (properties: Record<string, unknown>, required?: readonly string[]) => ({
  type: 'object',
  additionalProperties: false,
  ...(required === undefined ? {} : { required }),
  properties,
});

const labelSelector = closed({
  matchLabels: stringMap,
  matchExpressions: {
    type: 'array',
    items: closed({ key: str, operator: { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }, values: strings }, [
      'key',
      'operator',
    ]),
  },
});
const nodeSelectorRequirement = closed(
  { key: str, operator: { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'] }, values: strings },
  ['key', 'operator'],
);
const nodeSelectorTerm = closed({
  matchExpressions: { type: 'array', items: nodeSelectorRequirement },
  matchFields: { type: 'array', items: nodeSelectorRequirement },
});
const podAffinityTerm = closed({ labelSelector, namespaces: strings, topologyKey: str }, ['topologyKey']);
const podAffinity = closed({
  requiredDuringSchedulingIgnoredDuringExecution: { type: 'array', items: podAffinityTerm },
  preferredDuringSchedulingIgnoredDuringExecution: {
    type: 'array',
    items: closed({ weight: { type: 'integer', minimum: 1, maximum: 100 }, podAffinityTerm }, [
      'weight',
      'podAffinityTerm',
    ]),
  },
});
const seLinuxOptions = closed({ user: str, role: str, type: str, level: str });
const seccompProfile = closed(
  { type: { enum: ['RuntimeDefault', 'Unconfined', 'Localhost'] }, localhostProfile: str },
  ['type'],
);
const windowsOptions = closed({ gmsaCredentialSpecName: str, gmsaCredentialSpec: str, runAsUserName: str });

/** The JSON Schema of the `kubernetes:` block (part of the component schema). */
export const kubernetesJsonSchema = {
  ...closed({
    serviceAccountName: { ...str, description: 'the pods run as this ServiceAccount' },
    automountServiceAccountToken: {
      ...bool,
      description: 'mount the ServiceAccount token in the pod (default false: components get no API credentials)',
    },
    nodeSelector: stringMap,
    tolerations: {
      type: 'array',
      items: closed({
        key: str,
        operator: { enum: ['Exists', 'Equal'] },
        value: { type: 'string' },
        effect: { enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] },
        tolerationSeconds: int,
      }),
    },
    affinity: closed({
      nodeAffinity: closed({
        requiredDuringSchedulingIgnoredDuringExecution: closed(
          { nodeSelectorTerms: { type: 'array', minItems: 1, items: nodeSelectorTerm } },
          ['nodeSelectorTerms'],
        ),
        preferredDuringSchedulingIgnoredDuringExecution: {
          type: 'array',
          items: closed({ weight: { type: 'integer', minimum: 1, maximum: 100 }, preference: nodeSelectorTerm }, [
            'weight',
            'preference',
          ]),
        },
      }),
      podAffinity,
      podAntiAffinity: podAffinity,
    }),
    topologySpreadConstraints: {
      type: 'array',
      items: closed(
        {
          maxSkew: { type: 'integer', minimum: 1 },
          topologyKey: str,
          whenUnsatisfiable: { enum: ['DoNotSchedule', 'ScheduleAnyway'] },
          labelSelector,
        },
        ['maxSkew', 'topologyKey', 'whenUnsatisfiable'],
      ),
    },
    imagePullSecrets: { ...strings, description: 'names of Secrets in the namespace holding registry credentials' },
    priorityClassName: str,
    runtimeClassName: str,
    schedulerName: str,
    securityContext: {
      ...closed({
        runAsUser: int,
        runAsGroup: int,
        runAsNonRoot: bool,
        fsGroup: int,
        fsGroupChangePolicy: { enum: ['OnRootMismatch', 'Always'] },
        supplementalGroups: { type: 'array', items: int },
        seLinuxOptions,
        seccompProfile,
        sysctls: { type: 'array', items: closed({ name: str, value: { type: 'string' } }, ['name', 'value']) },
        windowsOptions,
      }),
      description: "the pod's security context",
    },
    containerSecurityContext: {
      ...closed({
        allowPrivilegeEscalation: bool,
        capabilities: closed({ add: strings, drop: strings }),
        privileged: bool,
        procMount: { enum: ['Default', 'Unmasked'] },
        readOnlyRootFilesystem: bool,
        runAsUser: int,
        runAsGroup: int,
        runAsNonRoot: bool,
        seLinuxOptions,
        seccompProfile,
        windowsOptions,
      }),
      description: "the component container's security context",
    },
    hostAliases: { type: 'array', items: closed({ ip: str, hostnames: strings }, ['ip']) },
    dnsPolicy: { enum: ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'] },
    dnsConfig: closed({
      nameservers: strings,
      searches: strings,
      options: { type: 'array', items: closed({ name: str, value: { type: 'string' } }, ['name']) },
    }),
    enableServiceLinks: {
      ...bool,
      description: "Services' variables in the environment (default false: a component sees only what it was given)",
    },
    labels: { ...stringMap, description: "extra pod labels (Pilotage's own pilotage.dev/ labels cannot be replaced)" },
    annotations: stringMap,
  }),
  description:
    'pod fields for the Kubernetes executor (an allow-list; see docs/kubernetes.md). The namespace is the engine setting.',
} as const;
