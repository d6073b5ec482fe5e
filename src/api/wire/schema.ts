// The core/v1 field schema (Kubernetes 1.33) that `fieldValidation=Strict|Warn` checks request bodies against.

// A node only has to say which keys exist: unknown-field checking never looks at scalar values, so
// types such as int32 vs string or IntOrString are not modelled. `scalar` and `any` are both leaves;
// they differ only in intent (`any` marks a subtree deliberately left open).
type SchemaNode =
  | { readonly t: 'scalar' }
  | { readonly t: 'any' }
  | { readonly t: 'object'; readonly fields: Readonly<Record<string, SchemaNode>> }
  | { readonly t: 'map'; readonly values: SchemaNode }
  | { readonly t: 'array'; readonly items: SchemaNode };

const S: SchemaNode = { t: 'scalar' };
const ANY: SchemaNode = { t: 'any' };

// Lists of scalars ([]string, []int64) are written as scalars too: nothing inside them can be a field.
function struct(scalars: string, nested: Record<string, SchemaNode> = {}): SchemaNode {
  return { t: 'object', fields: { ...keys(scalars, S), ...nested } };
}

function keys(names: string, node: SchemaNode): Record<string, SchemaNode> {
  return Object.fromEntries(names.split(/\s+/).filter(Boolean).map((k) => [k, node]));
}

// Go structs embedded with `json:",inline"` (EphemeralContainerCommon, TypeMeta) add their keys to the outer struct.
function extend(base: SchemaNode, scalars: string, nested: Record<string, SchemaNode> = {}): SchemaNode {
  if (base.t !== 'object') throw new Error('extend: base must be an object node');
  return { t: 'object', fields: { ...base.fields, ...keys(scalars, S), ...nested } };
}

const arr = (items: SchemaNode): SchemaNode => ({ t: 'array', items });
const map = (values: SchemaNode): SchemaNode => ({ t: 'map', values });

const STRINGS = map(S);
// ResourceList: quantities arrive as strings ("500m") or bare numbers; both are leaves.
const QUANTITIES = map(S);

// --- meta/v1 --------------------------------------------------------------------------------------

const objectMeta = struct(
  'name generateName namespace selfLink uid resourceVersion generation creationTimestamp deletionTimestamp deletionGracePeriodSeconds finalizers',
  {
    labels: STRINGS,
    annotations: STRINGS,
    ownerReferences: arr(struct('apiVersion kind name uid controller blockOwnerDeletion')),
    // fieldsV1 is a free-form field set (`f:spec: {...}`), not a typed struct.
    managedFields: arr(struct('manager operation apiVersion time fieldsType subresource', { fieldsV1: ANY })),
  },
);

const metaCondition = struct('type status observedGeneration lastTransitionTime reason message');

const deleteOptions = struct(
  'kind apiVersion gracePeriodSeconds orphanDependents propagationPolicy dryRun ignoreStoreReadErrorWithClusterBreakingPotential',
  { preconditions: struct('uid resourceVersion') },
);

// --- core/v1 shared -------------------------------------------------------------------------------

const objectReference = struct('kind namespace name uid apiVersion resourceVersion fieldPath');
const localObjectReference = struct('name');

// --- containers -----------------------------------------------------------------------------------

// ConfigMapKeySelector and SecretKeySelector both inline LocalObjectReference.
const keySelector = struct('name key optional');

const envVar = struct('name value', {
  valueFrom: struct('', {
    fieldRef: struct('apiVersion fieldPath'),
    resourceFieldRef: struct('containerName resource divisor'),
    configMapKeyRef: keySelector,
    secretKeyRef: keySelector,
  }),
});

const envFromSource = struct('prefix', { configMapRef: struct('name optional'), secretRef: struct('name optional') });

const resourceRequirements = struct('', { limits: QUANTITIES, requests: QUANTITIES, claims: arr(struct('name request')) });

const execAction = struct('command');
const httpGetAction = struct('path port host scheme', { httpHeaders: arr(struct('name value')) });
const tcpSocketAction = struct('port host');

// Probe inlines ProbeHandler.
const probe = struct(
  'initialDelaySeconds timeoutSeconds periodSeconds successThreshold failureThreshold terminationGracePeriodSeconds',
  { exec: execAction, httpGet: httpGetAction, tcpSocket: tcpSocketAction, grpc: struct('port service') },
);

const lifecycleHandler = struct('', { exec: execAction, httpGet: httpGetAction, tcpSocket: tcpSocketAction, sleep: struct('seconds') });
const lifecycle = struct('stopSignal', { postStart: lifecycleHandler, preStop: lifecycleHandler });

const seLinuxOptions = struct('user role type level');
const windowsOptions = struct('gmsaCredentialSpecName gmsaCredentialSpec runAsUserName hostProcess');
// SeccompProfile and AppArmorProfile share their shape.
const profile = struct('type localhostProfile');

const securityContext = struct(
  'privileged runAsUser runAsGroup runAsNonRoot readOnlyRootFilesystem allowPrivilegeEscalation procMount',
  { capabilities: struct('add drop'), seLinuxOptions, windowsOptions, seccompProfile: profile, appArmorProfile: profile },
);

const container = struct(
  'name image command args workingDir restartPolicy terminationMessagePath terminationMessagePolicy imagePullPolicy stdin stdinOnce tty',
  {
    ports: arr(struct('name hostPort containerPort protocol hostIP')),
    envFrom: arr(envFromSource),
    env: arr(envVar),
    resources: resourceRequirements,
    resizePolicy: arr(struct('resourceName restartPolicy')),
    volumeMounts: arr(struct('name readOnly recursiveReadOnly mountPath subPath mountPropagation subPathExpr')),
    volumeDevices: arr(struct('name devicePath')),
    livenessProbe: probe,
    readinessProbe: probe,
    startupProbe: probe,
    lifecycle,
    securityContext,
  },
);

const ephemeralContainer = extend(container, 'targetContainerName');

// --- pods -----------------------------------------------------------------------------------------

// Volume inlines VolumeSource. The source names are checked; each source's body is left open, since
// there are ~30 of them, mostly deprecated in-tree drivers, and a wrong guess would reject valid pods.
const VOLUME_SOURCES =
  'hostPath emptyDir gcePersistentDisk awsElasticBlockStore gitRepo secret nfs iscsi glusterfs persistentVolumeClaim ' +
  'rbd flexVolume cinder cephfs flocker downwardAPI fc azureFile configMap vsphereVolume quobyte azureDisk ' +
  'photonPersistentDisk projected portworxVolume scaleIO storageos csi ephemeral image';
const volume = struct('name', keys(VOLUME_SOURCES, ANY));

const podSecurityContext = struct(
  'runAsUser runAsGroup runAsNonRoot supplementalGroups supplementalGroupsPolicy fsGroup fsGroupChangePolicy seLinuxChangePolicy',
  { seLinuxOptions, windowsOptions, sysctls: arr(struct('name value')), seccompProfile: profile, appArmorProfile: profile },
);

const podSpec = struct(
  'restartPolicy terminationGracePeriodSeconds activeDeadlineSeconds dnsPolicy serviceAccountName serviceAccount ' +
    'automountServiceAccountToken nodeName hostNetwork hostPID hostIPC shareProcessNamespace hostname subdomain ' +
    'schedulerName priorityClassName priority runtimeClassName enableServiceLinks preemptionPolicy setHostnameAsFQDN hostUsers',
  {
    volumes: arr(volume),
    initContainers: arr(container),
    containers: arr(container),
    ephemeralContainers: arr(ephemeralContainer),
    nodeSelector: STRINGS,
    securityContext: podSecurityContext,
    imagePullSecrets: arr(localObjectReference),
    // Affinity and topology spread terms nest label selectors several levels deep; left open.
    affinity: ANY,
    tolerations: arr(struct('key operator value effect tolerationSeconds')),
    hostAliases: arr(struct('ip hostnames')),
    dnsConfig: struct('nameservers searches', { options: arr(struct('name value')) }),
    readinessGates: arr(struct('conditionType')),
    overhead: QUANTITIES,
    topologySpreadConstraints: ANY,
    os: struct('name'),
    schedulingGates: arr(struct('name')),
    resourceClaims: arr(struct('name resourceClaimName resourceClaimTemplateName')),
    resources: resourceRequirements,
  },
);

// Container statuses are written by kubelets, which may be newer than this schema; left open.
const podStatus = struct('observedGeneration phase message reason nominatedNodeName hostIP podIP startTime qosClass resize', {
  conditions: arr(struct('type observedGeneration status lastProbeTime lastTransitionTime reason message')),
  hostIPs: arr(struct('ip')),
  podIPs: arr(struct('ip')),
  initContainerStatuses: ANY,
  containerStatuses: ANY,
  ephemeralContainerStatuses: ANY,
  resourceClaimStatuses: arr(struct('name resourceClaimName')),
});

// --- nodes ----------------------------------------------------------------------------------------

const nodeConfigSource = struct('', { configMap: struct('namespace name uid resourceVersion kubeletConfigKey') });

const nodeSpec = struct('podCIDR podCIDRs providerID unschedulable externalID', {
  taints: arr(struct('key value effect timeAdded')),
  configSource: nodeConfigSource,
});

const nodeStatus = struct('phase volumesInUse', {
  capacity: QUANTITIES,
  allocatable: QUANTITIES,
  conditions: arr(struct('type status lastHeartbeatTime lastTransitionTime reason message')),
  addresses: arr(struct('type address')),
  // DaemonEndpoint's JSON key really is capitalised (`json:"Port"`).
  daemonEndpoints: struct('', { kubeletEndpoint: struct('Port') }),
  nodeInfo: struct(
    'machineID systemUUID bootID kernelVersion osImage containerRuntimeVersion kubeletVersion kubeProxyVersion operatingSystem architecture',
    { swap: struct('capacity') },
  ),
  images: arr(struct('names sizeBytes')),
  volumesAttached: arr(struct('name devicePath')),
  config: struct('error', { assigned: nodeConfigSource, active: nodeConfigSource, lastKnownGood: nodeConfigSource }),
  runtimeHandlers: arr(struct('name', { features: struct('recursiveReadOnlyMounts userNamespaces') })),
  features: struct('supplementalGroupsPolicy'),
});

// --- namespaces, services, events -----------------------------------------------------------------

const namespaceSpec = struct('finalizers');
const namespaceStatus = struct('phase', { conditions: arr(struct('type status lastTransitionTime reason message')) });

const serviceSpec = struct(
  'clusterIP clusterIPs type externalIPs sessionAffinity loadBalancerIP loadBalancerSourceRanges externalName ' +
    'externalTrafficPolicy healthCheckNodePort publishNotReadyAddresses ipFamilies ipFamilyPolicy ' +
    'allocateLoadBalancerNodePorts loadBalancerClass internalTrafficPolicy trafficDistribution',
  {
    ports: arr(struct('name protocol appProtocol port targetPort nodePort')),
    selector: STRINGS,
    sessionAffinityConfig: struct('', { clientIP: struct('timeoutSeconds') }),
  },
);

const serviceStatus = struct('', {
  loadBalancer: struct('', { ingress: arr(struct('ip hostname ipMode', { ports: arr(struct('port protocol error')) })) }),
  conditions: arr(metaCondition),
});

// --- kinds ----------------------------------------------------------------------------------------

// Every kind inlines TypeMeta and carries ObjectMeta.
function topLevel(fields: Record<string, SchemaNode>): SchemaNode {
  return struct('apiVersion kind', { metadata: objectMeta, ...fields });
}

const KINDS: Readonly<Record<string, SchemaNode>> = {
  Pod: topLevel({ spec: podSpec, status: podStatus }),
  Node: topLevel({ spec: nodeSpec, status: nodeStatus }),
  Namespace: topLevel({ spec: namespaceSpec, status: namespaceStatus }),
  Service: topLevel({ spec: serviceSpec, status: serviceStatus }),
  Event: extend(
    topLevel({ involvedObject: objectReference, source: struct('component host'), series: struct('count lastObservedTime'), related: objectReference }),
    'reason message firstTimestamp lastTimestamp count type eventTime action reportingComponent reportingInstance',
  ),
  Secret: topLevel({ data: STRINGS, stringData: STRINGS, type: S, immutable: S }),
  RuntimeClass: topLevel({
    handler: S,
    overhead: struct('', { podFixed: QUANTITIES }),
    scheduling: struct('', { nodeSelector: STRINGS, tolerations: arr(struct('key operator value effect tolerationSeconds')) }),
  }),
  Lease: topLevel({ spec: struct('holderIdentity leaseDurationSeconds acquireTime renewTime leaseTransitions strategy preferredHolder') }),
  // Go's DeleteOptions has no metadata, but one uniform top level (apiVersion, kind, metadata) is
  // simpler for callers, and a stray metadata on a delete body harms nothing.
  DeleteOptions: extend(deleteOptions, '', { metadata: objectMeta }),
  Binding: topLevel({ target: objectReference }),
  Eviction: topLevel({ deleteOptions }),
};

/** Paths (kube-apiserver wording, no leading dot: `spec.containers[0].bogus`) of fields `kind` does not define. */
export function unknownFields(kind: string, obj: unknown): string[] {
  const root = Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
  const out: string[] = [];
  if (root) walk(root, obj, '', out);
  return out;
}

/** Kinds whose bodies unknownFields can check. */
export function knownKinds(): string[] {
  return Object.keys(KINDS);
}

// Mirrors sigs.k8s.io/json's strict decoder: object and map keys join with `.`, array indexes as `[i]`.
// Values of the wrong JSON type are skipped: that is a decode error, reported elsewhere, not an unknown field.
function walk(node: SchemaNode, value: unknown, path: string, out: string[]): void {
  if (value === null || typeof value !== 'object') return;
  switch (node.t) {
    case 'scalar':
    case 'any':
      return;
    case 'array':
      if (Array.isArray(value)) value.forEach((item, i) => walk(node.items, item, `${path}[${i}]`, out));
      return;
    case 'map':
      if (Array.isArray(value)) return;
      for (const [k, v] of Object.entries(value)) walk(node.values, v, join(path, k), out);
      return;
    case 'object':
      if (Array.isArray(value)) return;
      for (const [k, v] of Object.entries(value)) {
        // hasOwn, so `constructor` or `__proto__` in a body is not mistaken for a known field.
        const child = Object.hasOwn(node.fields, k) ? node.fields[k] : undefined;
        if (child) walk(child, v, join(path, k), out);
        else out.push(join(path, k));
      }
      return;
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
