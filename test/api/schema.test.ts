// Field-validation schema: real manifests pass untouched, typos are named by their kube-apiserver path.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { knownKinds, unknownFields } from '../../src/api/wire/schema.ts';

// As `kubectl get pod -o yaml` prints a running Deployment pod.
const RUNNING_POD = `
apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubectl.kubernetes.io/restartedAt: "2025-05-01T10:00:00Z"
  creationTimestamp: "2025-05-02T08:14:03Z"
  generateName: web-7d9c6b5f4-
  generation: 1
  labels:
    app: web
    pod-template-hash: 7d9c6b5f4
  managedFields:
  - apiVersion: v1
    fieldsType: FieldsV1
    fieldsV1:
      f:metadata:
        f:generateName: {}
        f:labels:
          .: {}
          f:app: {}
        f:ownerReferences:
          .: {}
          k:{"uid":"0b7e3c1a-52f4-4a57-9d0e-2f7f1c6b9e11"}: {}
      f:spec:
        f:containers:
          k:{"name":"web"}:
            .: {}
            f:image: {}
    manager: kube-controller-manager
    operation: Update
    time: "2025-05-02T08:14:03Z"
  - apiVersion: v1
    fieldsType: FieldsV1
    fieldsV1:
      f:status:
        f:conditions:
          k:{"type":"Ready"}:
            .: {}
            f:status: {}
        f:podIP: {}
    manager: kubelet
    operation: Update
    subresource: status
    time: "2025-05-02T08:14:09Z"
  name: web-7d9c6b5f4-x2kqp
  namespace: default
  ownerReferences:
  - apiVersion: apps/v1
    blockOwnerDeletion: true
    controller: true
    kind: ReplicaSet
    name: web-7d9c6b5f4
    uid: 0b7e3c1a-52f4-4a57-9d0e-2f7f1c6b9e11
  resourceVersion: "48213"
  uid: 5c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f
spec:
  affinity:
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - podAffinityTerm:
          labelSelector:
            matchLabels:
              app: web
          topologyKey: kubernetes.io/hostname
        weight: 100
  containers:
  - name: web
    image: nginx:1.27
    imagePullPolicy: IfNotPresent
    args: ["-g", "daemon off;"]
    ports:
    - containerPort: 80
      name: http
      protocol: TCP
    env:
    - name: POD_NAME
      valueFrom:
        fieldRef:
          apiVersion: v1
          fieldPath: metadata.name
    - name: MEM_LIMIT
      valueFrom:
        resourceFieldRef:
          containerName: web
          divisor: "0"
          resource: limits.memory
    - name: PASSWORD
      valueFrom:
        secretKeyRef:
          key: password
          name: web-secret
          optional: true
    envFrom:
    - configMapRef:
        name: web-config
      prefix: CFG_
    resources:
      limits:
        cpu: 500m
        memory: 256Mi
      requests:
        cpu: 100m
        memory: 128Mi
    livenessProbe:
      failureThreshold: 3
      httpGet:
        path: /healthz
        port: http
        scheme: HTTP
        httpHeaders:
        - name: X-Probe
          value: liveness
      initialDelaySeconds: 10
      periodSeconds: 10
      successThreshold: 1
      timeoutSeconds: 1
    readinessProbe:
      tcpSocket:
        port: 80
      periodSeconds: 5
    startupProbe:
      exec:
        command: ["cat", "/tmp/ready"]
      failureThreshold: 30
    lifecycle:
      preStop:
        sleep:
          seconds: 5
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop: ["ALL"]
      readOnlyRootFilesystem: true
      runAsNonRoot: true
      seccompProfile:
        type: RuntimeDefault
    terminationMessagePath: /dev/termination-log
    terminationMessagePolicy: File
    volumeMounts:
    - mountPath: /var/cache/nginx
      name: cache
    - mountPath: /var/run/secrets/kubernetes.io/serviceaccount
      name: kube-api-access-8xz2n
      readOnly: true
  - name: sidecar
    image: busybox:1.36
    command: ["sh", "-c", "sleep infinity"]
    resources: {}
  dnsPolicy: ClusterFirst
  enableServiceLinks: true
  nodeName: node-a
  preemptionPolicy: PreemptLowerPriority
  priority: 0
  restartPolicy: Always
  schedulerName: default-scheduler
  securityContext:
    fsGroup: 101
    runAsUser: 101
  serviceAccount: default
  serviceAccountName: default
  terminationGracePeriodSeconds: 30
  tolerations:
  - effect: NoExecute
    key: node.kubernetes.io/not-ready
    operator: Exists
    tolerationSeconds: 300
  - effect: NoExecute
    key: node.kubernetes.io/unreachable
    operator: Exists
    tolerationSeconds: 300
  topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        app: web
  volumes:
  - emptyDir:
      sizeLimit: 1Gi
    name: cache
  - name: kube-api-access-8xz2n
    projected:
      defaultMode: 420
      sources:
      - serviceAccountToken:
          expirationSeconds: 3607
          path: token
      - configMap:
          items:
          - key: ca.crt
            path: ca.crt
          name: kube-root-ca.crt
      - downwardAPI:
          items:
          - fieldRef:
              apiVersion: v1
              fieldPath: metadata.namespace
            path: namespace
status:
  conditions:
  - lastProbeTime: null
    lastTransitionTime: "2025-05-02T08:14:06Z"
    status: "True"
    type: PodReadyToStartContainers
  - lastProbeTime: null
    lastTransitionTime: "2025-05-02T08:14:03Z"
    status: "True"
    type: Initialized
  - lastProbeTime: null
    lastTransitionTime: "2025-05-02T08:14:09Z"
    status: "True"
    type: Ready
  - lastProbeTime: null
    lastTransitionTime: "2025-05-02T08:14:03Z"
    status: "True"
    type: PodScheduled
  containerStatuses:
  - containerID: containerd://9f8e7d6c5b4a
    image: docker.io/library/nginx:1.27
    imageID: docker.io/library/nginx@sha256:0123456789abcdef
    lastState: {}
    name: web
    ready: true
    restartCount: 0
    started: true
    state:
      running:
        startedAt: "2025-05-02T08:14:05Z"
    volumeMounts:
    - mountPath: /var/cache/nginx
      name: cache
  hostIP: 10.0.0.11
  hostIPs:
  - ip: 10.0.0.11
  phase: Running
  podIP: 10.244.1.7
  podIPs:
  - ip: 10.244.1.7
  qosClass: Burstable
  startTime: "2025-05-02T08:14:03Z"
`;

// As a kubelet registers itself and reports status.
const KUBELET_NODE = `
apiVersion: v1
kind: Node
metadata:
  annotations:
    node.alpha.kubernetes.io/ttl: "0"
    volumes.kubernetes.io/controller-managed-attach-detach: "true"
  creationTimestamp: "2025-04-30T12:00:00Z"
  labels:
    beta.kubernetes.io/arch: amd64
    kubernetes.io/hostname: node-a
    kubernetes.io/os: linux
    node-role.kubernetes.io/worker: ""
  name: node-a
  resourceVersion: "47990"
  uid: 1a2b3c4d-0000-4000-8000-000000000001
spec:
  podCIDR: 10.244.1.0/24
  podCIDRs:
  - 10.244.1.0/24
  providerID: kind://docker/kind/node-a
  taints:
  - effect: NoSchedule
    key: dedicated
    value: gpu
status:
  addresses:
  - address: 10.0.0.11
    type: InternalIP
  - address: node-a
    type: Hostname
  allocatable:
    cpu: "8"
    ephemeral-storage: 100Gi
    hugepages-2Mi: "0"
    memory: 32780516Ki
    pods: 110
  capacity:
    cpu: 8
    ephemeral-storage: 102400Mi
    memory: 32882916Ki
    pods: "110"
  conditions:
  - lastHeartbeatTime: "2025-05-02T08:20:00Z"
    lastTransitionTime: "2025-04-30T12:00:00Z"
    message: kubelet has sufficient memory available
    reason: KubeletHasSufficientMemory
    status: "False"
    type: MemoryPressure
  - lastHeartbeatTime: "2025-05-02T08:20:00Z"
    lastTransitionTime: "2025-04-30T12:00:30Z"
    message: kubelet is posting ready status
    reason: KubeletReady
    status: "True"
    type: Ready
  daemonEndpoints:
    kubeletEndpoint:
      Port: 10250
  features:
    supplementalGroupsPolicy: true
  images:
  - names:
    - docker.io/library/nginx@sha256:0123456789abcdef
    - docker.io/library/nginx:1.27
    sizeBytes: 72099501
  nodeInfo:
    architecture: amd64
    bootID: 2c7b0e4e-1111-2222-3333-444455556666
    containerRuntimeVersion: containerd://2.0.4
    kernelVersion: 6.8.0-57-generic
    kubeProxyVersion: ""
    kubeletVersion: v1.33.1
    machineID: 0f1e2d3c4b5a69788796a5b4c3d2e1f0
    operatingSystem: linux
    osImage: Debian GNU/Linux 12 (bookworm)
    swap:
      capacity: 0
    systemUUID: 7e1c2d3b-aaaa-bbbb-cccc-ddddeeeeffff
  runtimeHandlers:
  - features:
      recursiveReadOnlyMounts: true
      userNamespaces: true
    name: runc
  - features:
      recursiveReadOnlyMounts: true
      userNamespaces: true
    name: ""
  volumesAttached:
  - devicePath: /dev/disk/by-id/virtio-pvc-1
    name: kubernetes.io/csi/ebs.csi.aws.com^vol-1
  volumesInUse:
  - kubernetes.io/csi/ebs.csi.aws.com^vol-1
`;

describe('unknownFields', () => {
  it('accepts a running pod exactly as kubectl get -o yaml prints it', () => {
    assert.deepEqual(unknownFields('Pod', parse(RUNNING_POD)), []);
  });

  it('names unknown fields by their kube-apiserver path, without a leading dot', () => {
    const pod = parse(RUNNING_POD) as { metadata: Record<string, unknown>; spec: { containers: Record<string, unknown>[] } & Record<string, unknown> };
    pod.spec.foo = 'bar';
    pod.spec.containers[1]!.imagePullPolicyy = 'Always';
    pod.metadata.labelz = { app: 'web' };
    assert.deepEqual(unknownFields('Pod', pod).sort(), ['metadata.labelz', 'spec.containers[1].imagePullPolicyy', 'spec.foo']);
  });

  it('reports an unknown field once, without descending into it', () => {
    assert.deepEqual(unknownFields('Pod', { spec: { extra: { deeply: { nested: true } } } }), ['spec.extra']);
  });

  it('reports unknown fields deep in containers, probes and init containers', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', ownerReferences: [{ kind: 'ReplicaSet', name: 'rs', uid: 'u', apiVersion: 'apps/v1', controlller: true }] },
      spec: {
        initContainers: [{ name: 'init', image: 'busybox', resources: { limits: { cpu: 1 }, requestz: {} } }],
        containers: [{ name: 'c', image: 'nginx', livenessProbe: { httpGet: { port: 80, paht: '/' } }, env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k', optinal: true } } }] }],
        securityContext: { runAsUser: 1, fsgroup: 2 },
      },
    };
    assert.deepEqual(unknownFields('Pod', pod), [
      'metadata.ownerReferences[0].controlller',
      'spec.initContainers[0].resources.requestz',
      'spec.containers[0].livenessProbe.httpGet.paht',
      'spec.containers[0].env[0].valueFrom.secretKeyRef.optinal',
      'spec.securityContext.fsgroup',
    ]);
  });

  it('knows every volume source by name but leaves its body open', () => {
    const pod = { spec: { volumes: [{ name: 'a', csi: { driver: 'x', anything: { goes: 1 } } }, { name: 'b', hostpath: { path: '/' } }] } };
    assert.deepEqual(unknownFields('Pod', pod), ['spec.volumes[1].hostpath']);
  });

  it('leaves affinity open: anything under it is accepted', () => {
    const pod = { spec: { affinity: { nodeAffinity: { notAField: [{ whatever: true }] }, madeUp: 1 }, containers: [] } };
    assert.deepEqual(unknownFields('Pod', pod), []);
  });

  it('accepts ephemeral containers with targetContainerName, but not on regular containers', () => {
    const pod = { spec: { ephemeralContainers: [{ name: 'debug', image: 'busybox', targetContainerName: 'web', stdin: true, tty: true }], containers: [{ name: 'web', targetContainerName: 'x' }] } };
    assert.deepEqual(unknownFields('Pod', pod), ['spec.containers[0].targetContainerName']);
  });

  it('accepts a node as a kubelet reports it', () => {
    assert.deepEqual(unknownFields('Node', parse(KUBELET_NODE)), []);
  });

  it('matches keys case-sensitively, as kube-apiserver does (kubeletEndpoint.Port is capitalised)', () => {
    const node = { status: { daemonEndpoints: { kubeletEndpoint: { port: 10250 } } }, spec: { Unschedulable: true } };
    assert.deepEqual(unknownFields('Node', node), ['status.daemonEndpoints.kubeletEndpoint.port', 'spec.Unschedulable']);
  });

  it('accepts a Service with ports and selector, and flags a mistyped port field', () => {
    const ports: Record<string, unknown>[] = [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', nodePort: 30080, appProtocol: 'http' }];
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
      spec: {
        type: 'NodePort',
        selector: { app: 'web' },
        ports,
        clusterIP: '10.96.0.10',
        clusterIPs: ['10.96.0.10'],
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        internalTrafficPolicy: 'Cluster',
        externalTrafficPolicy: 'Cluster',
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
        trafficDistribution: 'PreferClose',
      },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP' }] }] } },
    };
    assert.deepEqual(unknownFields('Service', svc), []);
    ports.push({ name: 'https', port: 443, targetPort: 443, protocol: 'TCP', tragetPort: 443 });
    assert.deepEqual(unknownFields('Service', svc), ['spec.ports[1].tragetPort']);
  });

  it('accepts a Namespace and a core/v1 Event with every field set', () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };
    assert.deepEqual(unknownFields('Namespace', ns), []);
    const ref = { kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'u', apiVersion: 'v1', resourceVersion: '7', fieldPath: 'spec.containers{web}' };
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'web-1.17f3', namespace: 'default' },
      involvedObject: ref,
      reason: 'Pulled',
      message: 'Container image "nginx" already present on machine',
      source: { component: 'kubelet', host: 'node-a' },
      firstTimestamp: '2025-05-02T08:14:04Z',
      lastTimestamp: '2025-05-02T08:14:04Z',
      count: 1,
      type: 'Normal',
      eventTime: null,
      series: { count: 2, lastObservedTime: '2025-05-02T08:14:04.000000Z' },
      action: 'Pull',
      related: ref,
      reportingComponent: 'kubelet',
      reportingInstance: 'node-a',
    };
    assert.deepEqual(unknownFields('Event', event), []);
    assert.deepEqual(unknownFields('Event', { ...event, note: 'events.k8s.io only' }), ['note']);
  });

  it('checks DeleteOptions, Binding and Eviction bodies', () => {
    const del = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground', gracePeriodSeconds: 0, preconditions: { uid: 'u', resourceVersion: '1' }, dryRun: ['All'] };
    assert.deepEqual(unknownFields('DeleteOptions', del), []);
    assert.deepEqual(unknownFields('DeleteOptions', { propagation: 'Orphan' }), ['propagation']);
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'web-1' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-a' } };
    assert.deepEqual(unknownFields('Binding', binding), []);
    const eviction = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'web-1', namespace: 'default' }, deleteOptions: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 5, grace: 1 } };
    assert.deepEqual(unknownFields('Eviction', eviction), ['deleteOptions.grace']);
  });

  it('does not treat inherited object properties as known fields', () => {
    const body = JSON.parse('{"metadata":{"name":"x","constructor":1,"__proto__":{"a":1}},"toString":2}') as unknown;
    assert.deepEqual(unknownFields('Namespace', body), ['metadata.constructor', 'metadata.__proto__', 'toString']);
  });

  it('returns nothing for an unknown kind or a body that is not an object', () => {
    assert.deepEqual(unknownFields('Deployment', { spec: { bogus: 1 } }), []);
    assert.deepEqual(unknownFields('constructor', { bogus: 1 }), []);
    assert.deepEqual(unknownFields('Pod', null), []);
    assert.deepEqual(unknownFields('Pod', 'pod'), []);
    assert.deepEqual(unknownFields('Pod', [{ bogus: 1 }]), []);
  });
});

describe('Secret and RuntimeClass fields', () => {
  it('knows data, stringData, type, immutable and handler, overhead, scheduling', () => {
    assert.deepEqual(unknownFields('Secret', { apiVersion: 'v1', kind: 'Secret', metadata: {}, data: { a: 'eA==' }, stringData: { b: 'x' }, type: 'Opaque', immutable: true, bogus: 1 }), ['bogus']);
    assert.deepEqual(unknownFields('RuntimeClass', {
      apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: {}, handler: 'lx', overhead: { podFixed: { cpu: '10m' } },
      scheduling: { nodeSelector: { a: 'b' }, tolerations: [{ key: 'k', operator: 'Exists', bogus: 1 }] }, spec: {},
    }), ['scheduling.tolerations[0].bogus', 'spec']);
  });
});

describe('knownKinds', () => {
  it('lists every kind unknownFields can check', () => {
    assert.deepEqual([...knownKinds()].sort(), ['Binding', 'DeleteOptions', 'Event', 'Eviction', 'Lease', 'Namespace', 'Node', 'Pod', 'RuntimeClass', 'Secret', 'Service']);
    for (const kind of knownKinds()) assert.deepEqual(unknownFields(kind, { apiVersion: 'v1', kind, metadata: {} }), []);
  });
});
